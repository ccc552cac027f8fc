"""Pages and items: reads with one Query per page, edits as DynamoDB transactions."""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import size
from pynamodb.transactions import TransactWrite

from chalicelib import textstore
from chalicelib.clock import iso
from chalicelib.errors import Conflict, NotFound, Unprocessable
from chalicelib.ids import is_id, new_id
from chalicelib.pages import cache, views
from chalicelib.pages.content_types import row_types
from chalicelib.pages.models import (
    ItemRow,
    PageRow,
    PagesTable,
    item_sk,
    page_pk,
    title_sort_key,
)
from chalicelib.provider import current, now, settings

META = "META"
_RETRIES = 3


def _stamp() -> str:
    return iso(now())


def _checked(kind: str, value: str) -> str:
    if not is_id(value):
        raise NotFound(f"no such {kind}")
    return value


def _transaction() -> TransactWrite:
    return TransactWrite(connection=current().connection)


# ---------------------------------------------------------------- reading

def load(page_id: str) -> tuple[PageRow, list[ItemRow]]:
    """The page and its items in the editor's order, from one Query on the page's partition."""
    _checked("page", page_id)
    page: PageRow | None = None
    items: dict[str, ItemRow] = {}
    for row in PagesTable.query(page_pk(page_id)):
        if isinstance(row, PageRow):
            page = row
        elif isinstance(row, ItemRow):
            items[row.item_id] = row
    if page is None:
        raise NotFound(f"no page {page_id!r}")
    return page, [items[i] for i in page.item_ids if i in items]


def render_item(row: ItemRow) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.item_id, "type": ItemRow.kind.get_discriminator(type(row)),
                           "title": row.title, "views": int(row.views or 0)}
    offloaded = row.offloaded.as_dict() if row.offloaded else {}
    for name in type(row).content_fields():
        out[name] = textstore.get_text(offloaded[name]) if name in offloaded else getattr(row, name)
    return out


def render(page: PageRow, items: Iterable[ItemRow]) -> dict[str, Any]:
    return {"id": page.page_id, "title": page.title, "created_at": page.created_at,
            "updated_at": page.updated_at, "items": [render_item(i) for i in items]}


def detail(page_id: str) -> cache.Detail:
    """The page as readers see it; counts one view for each of its items (off the request path)."""
    cached = cache.get(page_id)
    if cached is None:
        page, items = load(page_id)
        cached = cache.Detail(item_ids=tuple(row.item_id for row in items), body=render(page, items))
        cache.put(page_id, cached)
    views.record(page_id, list(cached.item_ids))
    return cached


def item(page_id: str, item_id: str) -> dict[str, Any]:
    _, items = load(page_id)
    return render_item(_find(items, item_id))


def _find(items: list[ItemRow], item_id: str) -> ItemRow:
    for row in items:
        if row.item_id == item_id:
            return row
    raise NotFound(f"no item {item_id!r} on this page")


# ---------------------------------------------------------------- writing

def _item_values(row_cls: type[ItemRow], page_id: str, item_id: str,
                 values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Attribute values to store and the long texts moved to S3 (field -> key)."""
    long_fields = row_cls.long_text_fields()
    stored: dict[str, Any] = {}
    offloaded: dict[str, str] = {}
    for name, value in values.items():
        if name in long_fields and value is not None and len(value.encode("utf-8")) > settings().inline_text_max:
            offloaded[name] = textstore.put_text(f"pages/{page_id}/{item_id}/{name}", value)
            value = None
        stored[name] = value
    return stored, offloaded


def _new_item_row(page_id: str, spec: Any, stamp: str) -> ItemRow:
    row_cls = row_types()[spec.type]
    item_id = new_id()
    values = spec.model_dump(mode="json", exclude={"type", "title"})
    stored, offloaded = _item_values(row_cls, page_id, item_id, values)
    return row_cls(page_pk(page_id), item_sk(item_id), title=spec.title, views=0, created_at=stamp,
                   updated_at=stamp, offloaded=offloaded or None, **stored)


def _check_capacity(count: int) -> None:
    limit = settings().max_items_per_page
    if count > limit:
        raise Unprocessable(f"a page holds at most {limit} items", code="page_full")


def create_page(title: str, items: list[Any]) -> dict[str, Any]:
    _check_capacity(len(items))
    page_id, stamp = new_id(), _stamp()
    rows = [_new_item_row(page_id, spec, stamp) for spec in items]
    page = PageRow(page_pk(page_id), META, title=title, title_key=title_sort_key(title), created_at=stamp,
                   updated_at=stamp, item_ids=[r.item_id for r in rows], revision=0)
    with _transaction() as tx:
        tx.save(page, condition=PageRow.pk.does_not_exist())
        for row in rows:
            tx.save(row, condition=ItemRow.pk.does_not_exist())
    return render(page, rows)


def rename_page(page_id: str, title: str) -> dict[str, Any]:
    _checked("page", page_id)
    try:
        PageRow(page_pk(page_id), META).update(
            actions=[PageRow.title.set(title), PageRow.title_key.set(title_sort_key(title)),
                     PageRow.updated_at.set(_stamp()), PageRow.revision.add(1)],
            condition=PageRow.pk.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(f"no page {page_id!r}") from None
        raise
    cache.forget(page_id)
    return render(*load(page_id))


def _bump_revision(tx: TransactWrite, page: PageRow, actions: list[Any], *, guard_revision: bool,
           condition: Any = None) -> str:
    """Bump the page's revision with the edit, so concurrent edits of its order cannot interleave."""
    condition = PageRow.pk.exists() if condition is None else PageRow.pk.exists() & condition
    if guard_revision:
        condition &= PageRow.revision == page.revision
    stamp = _stamp()
    tx.update(page, actions=[*actions, PageRow.updated_at.set(stamp), PageRow.revision.add(1)],
              condition=condition)
    return stamp


def _edit(page_id: str, edit: Any) -> Any:
    """Run ``edit(page, items)`` (which writes one transaction) on fresh state, retrying races."""
    for _ in range(_RETRIES):
        page, items = load(page_id)
        try:
            result = edit(page, items)
        except TransactWriteError as exc:
            if not _cancelled(exc):
                raise
            continue
        cache.forget(page_id)
        return result
    raise Conflict("the page changed while this edit was applied; try again")


def _cancelled(exc: TransactWriteError) -> bool:
    return exc.cause_response_code == "TransactionCanceledException"


def delete_page(page_id: str) -> None:
    texts: list[str] = []

    def edit(page: PageRow, items: list[ItemRow]) -> None:
        with _transaction() as tx:
            tx.delete(page, condition=PageRow.revision == page.revision)
            for row in items:
                tx.delete(row)
        texts.extend(k for row in items if row.offloaded for k in row.offloaded.as_dict().values())

    _edit(page_id, edit)
    textstore.delete_texts(texts)


def add_item(page_id: str, spec: Any) -> dict[str, Any]:
    def edit(page: PageRow, items: list[ItemRow]) -> dict[str, Any]:
        _check_capacity(len(page.item_ids) + 1)
        row = _new_item_row(page_id, spec, _stamp())
        with _transaction() as tx:
            tx.save(row, condition=ItemRow.pk.does_not_exist())
            _bump_revision(tx, page, [PageRow.item_ids.set(PageRow.item_ids.append([row.item_id]))], guard_revision=False,
                   condition=size(PageRow.item_ids) < settings().max_items_per_page)
        return render_item(row)

    return _edit(page_id, edit)


def update_item(page_id: str, item_id: str, patch: dict[str, Any]) -> dict[str, Any]:
    from pydantic import ValidationError

    from chalicelib.errors import validation_details
    from chalicelib.pages.schemas import item_schemas

    replaced: list[str] = []

    def edit(page: PageRow, items: list[ItemRow]) -> dict[str, Any]:
        row = _find(items, _checked("item", item_id))
        current = render_item(row)
        type_name = current.pop("type")
        if patch.get("type", type_name) != type_name:
            raise Unprocessable("an item's type cannot change; delete it and add a new one")
        merged = {k: v for k, v in current.items() if k not in ("id", "views")}
        merged.update({k: v for k, v in patch.items() if k != "type"})
        try:
            spec = item_schemas()[type_name].model_validate({"type": type_name, **merged})
        except ValidationError as exc:
            raise Unprocessable("the item would not be valid", validation_details(exc)) from None
        values = spec.model_dump(mode="json", exclude={"type", "title"})
        changed = {k: values[k] for k in patch if k in values}
        stored, new_texts = _item_values(type(row), page_id, item_id, changed)
        offloaded = row.offloaded.as_dict() if row.offloaded else {}
        replaced.extend(offloaded.pop(k) for k in list(offloaded) if k in changed)
        offloaded.update(new_texts)
        attrs = type(row).get_attributes()
        actions = [attrs[k].set(v) if v is not None else attrs[k].remove() for k, v in stored.items()]
        actions += [ItemRow.title.set(spec.title), ItemRow.updated_at.set(_stamp()),
                    ItemRow.offloaded.set(offloaded) if offloaded else ItemRow.offloaded.remove()]
        with _transaction() as tx:
            tx.update(row, actions=actions, condition=ItemRow.pk.exists())
            _bump_revision(tx, page, [], guard_revision=False)
        return {**current, "type": type_name, **{k: values[k] for k in changed}, "title": spec.title}

    result = _edit(page_id, edit)
    textstore.delete_texts(replaced)
    return result


def delete_item(page_id: str, item_id: str) -> None:
    texts: list[str] = []

    def edit(page: PageRow, items: list[ItemRow]) -> None:
        row = _find(items, _checked("item", item_id))
        with _transaction() as tx:
            tx.delete(row)
            _bump_revision(tx, page, [PageRow.item_ids.set([i for i in page.item_ids if i != item_id])],
                   guard_revision=True)
        texts.extend(row.offloaded.as_dict().values() if row.offloaded else [])

    _edit(page_id, edit)
    textstore.delete_texts(texts)


def reorder(page_id: str, order: list[str]) -> dict[str, Any]:
    def edit(page: PageRow, items: list[ItemRow]) -> dict[str, Any]:
        present = [row.item_id for row in items]
        counts, known = Counter(order), set(present)
        if len(counts) != len(order) or set(counts) != known:  # linear: sets and one Counter
            raise Unprocessable("the order must list every item of the page exactly once", {
                "missing": [i for i in present if i not in counts],
                "unknown": [i for i in counts if i not in known],
                "repeated": sorted(i for i, n in counts.items() if n > 1)})
        with _transaction() as tx:
            stamp = _bump_revision(tx, page, [PageRow.item_ids.set(order)], guard_revision=True)
        by_id = {row.item_id: row for row in items}
        page.item_ids, page.updated_at = order, stamp
        return render(page, [by_id[i] for i in order])

    return _edit(page_id, edit)

