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
    LongText,
    PageRow,
    PagesTable,
    TextFileRef,
    file_field,
    item_sk,
    page_pk,
    title_sort_key,
    url_field,
)
from chalicelib.payload import response_cost
from chalicelib.provider import current, now, settings
from chalicelib.status import FileStatus
from chalicelib.uploads.models import FileRow

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


def _offloaded(row: ItemRow) -> dict[str, str]:
    value = row.offloaded
    if not value:
        return {}
    return dict(value) if isinstance(value, dict) else value.as_dict()


def text_url(base_url: str, page_id: str, item_id: str, field: str) -> str:
    return f"{base_url}/pages/{page_id}/items/{item_id}/text/{field}"


def inline_ok(text: str) -> bool:
    """Short enough to answer inline: at most ``inline_text_max`` UTF-8 bytes (so it fits the
    DynamoDB item) and at most ``inline_text_response_max`` in Lambda's response payload."""
    cfg = settings()
    return len(text.encode("utf-8")) <= cfg.inline_text_max and response_cost(text) <= cfg.inline_text_response_max


def render_item(row: ItemRow, base_url: str) -> dict[str, Any]:
    """An item as readers see it. A long text field is inline only while short; a text kept in S3
    or in an uploaded file is ``null`` with ``<field>_url`` linking it, so no S3 read happens here
    and no response grows with the texts (see ``inline_text_response_max``)."""
    row_cls = type(row)
    out: dict[str, Any] = {"id": row.item_id, "type": ItemRow.kind.get_discriminator(row_cls),
                           "title": row.title, "views": int(row.views or 0)}
    offloaded = _offloaded(row)
    for name, attr in row_cls.content_fields().items():
        value = getattr(row, name)
        if isinstance(attr, LongText):
            linked = (name in offloaded or getattr(row, file_field(name)) is not None
                      or (value is not None and not inline_ok(value)))
            out[name] = None if linked else value
            out[url_field(name)] = text_url(base_url, row.pk.removeprefix("PAGE#"), row.item_id, name) if linked else None
        else:
            out[name] = value
    return out


def render(page: PageRow, items: Iterable[ItemRow], base_url: str) -> dict[str, Any]:
    return {"id": page.page_id, "title": page.title, "created_at": page.created_at,
            "updated_at": page.updated_at, "items": [render_item(i, base_url) for i in items]}


def detail(page_id: str, base_url: str) -> cache.Detail:
    """The page as readers see it; counts one view for each of its items (off the request path)."""
    cached = cache.get(page_id, base_url)
    if cached is None:
        page, items = load(page_id)
        cached = cache.Detail(item_ids=tuple(row.item_id for row in items), body=render(page, items, base_url))
        cache.put(page_id, base_url, cached)
    views.record(page_id, list(cached.item_ids))
    return cached


def item(page_id: str, item_id: str, base_url: str) -> dict[str, Any]:
    return render_item(_item_row(page_id, item_id), base_url)


def _item_row(page_id: str, item_id: str) -> ItemRow:
    """One item by its key (one GetItem; the page need not be read)."""
    _checked("page", page_id)
    _checked("item", item_id)
    try:
        row = PagesTable.get(page_pk(page_id), item_sk(item_id))
    except PagesTable.DoesNotExist:
        raise NotFound(f"no item {item_id!r} on this page") from None
    if not isinstance(row, ItemRow):
        raise NotFound(f"no item {item_id!r} on this page")
    return row


def text(page_id: str, item_id: str, field: str) -> tuple[str | None, str | None]:
    """The full text of a long text field: ``(text, None)`` when it is kept in DynamoDB (then at
    most ``inline_text_max`` bytes), else ``(None, url)``, a short-lived presigned GET of the
    stored text or the uploaded file, so no answer carries a long text through Lambda."""
    row = _item_row(page_id, item_id)
    if field not in type(row).long_text_fields():
        raise NotFound(f"a {ItemRow.kind.get_discriminator(type(row))} item has no text field {field!r}")
    offloaded = _offloaded(row)
    if field in offloaded:
        return None, textstore.download_url(offloaded[field])
    file_id = getattr(row, file_field(field))
    if file_id is not None:
        return None, textstore.download_url(_text_file_key(file_id))
    value = getattr(row, field)
    if value is None:
        raise NotFound(f"this item has no {field}")
    return value, None


def _find(items: list[ItemRow], item_id: str) -> ItemRow:
    for row in items:
        if row.item_id == item_id:
            return row
    raise NotFound(f"no item {item_id!r} on this page")


# ---------------------------------------------------------------- writing

# Who may name which file: any editor may name any stored text file, whoever uploaded it.
# Editors build pages and uploaders upload: the editor publishing a transcript is rarely its
# uploader, and file ids are unguessable (122 random bits), so knowing one is the permission.
# Naming a file publishes its text to every reader of the page.
TEXT_FILE_KINDS = frozenset({"screenplay", "subtitles"})  # the kinds that may be text/plain
TEXT_FILE_TYPE = "text/plain"
TEXT_FILE_STATUSES = frozenset({FileStatus.PROCESSING, FileStatus.READY, FileStatus.DB_READY})


def _stored_text_file(file_id: str, field: str) -> FileRow:
    """An uploaded file that may stand for a text: stored (processing or later), text/plain."""
    try:
        row = FileRow.get(file_id, consistent_read=True)
    except FileRow.DoesNotExist:
        row = None
    if row is None or row.kind not in TEXT_FILE_KINDS or row.content_type != TEXT_FILE_TYPE:
        problem = "no such file" if row is None else f"a {row.kind} file of type {row.content_type}"
        raise Unprocessable(f"{field} must name an uploaded text file ({', '.join(sorted(TEXT_FILE_KINDS))}, "
                            f"{TEXT_FILE_TYPE}): {problem}", {"field": field, "file_id": file_id},
                            code="invalid_text_file")
    if FileStatus(row.status) not in TEXT_FILE_STATUSES:
        raise Unprocessable(f"{field} names a file that is not stored (status {row.status}); complete its "
                            "upload first", {"field": field, "file_id": file_id, "status": row.status},
                            code="invalid_text_file")
    return row


def _text_file_key(file_id: str) -> str:
    """The object of a file named by an item, while it is still a stored file."""
    try:
        row = FileRow.get(file_id)
    except FileRow.DoesNotExist:
        row = None
    if row is None or FileStatus(row.status) not in TEXT_FILE_STATUSES:
        raise NotFound("the text file of this item is not available"
                       + (f" (status {row.status})" if row else ""))
    return row.object_key


def _item_values(row_cls: type[ItemRow], page_id: str, item_id: str,
                 values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Attribute values to store and the long texts moved to S3 (field -> key). A text goes to S3
    unless it is short enough to answer inline (``inline_ok``), so the item stays small and
    every text in DynamoDB can be served inline."""
    fields = row_cls.content_fields()
    stored: dict[str, Any] = {}
    offloaded: dict[str, str] = {}
    for name, value in values.items():
        attr = fields.get(name)
        if isinstance(attr, LongText) and value is not None and not inline_ok(value):
            offloaded[name] = textstore.put_text(f"pages/{page_id}/{item_id}/{name}", value)
            value = None
        elif isinstance(attr, TextFileRef) and value is not None:
            _stored_text_file(value, name)
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


def create_page(title: str, items: list[Any], base_url: str) -> dict[str, Any]:
    _check_capacity(len(items))
    page_id, stamp = new_id(), _stamp()
    rows = [_new_item_row(page_id, spec, stamp) for spec in items]
    page = PageRow(page_pk(page_id), META, title=title, title_key=title_sort_key(title), created_at=stamp,
                   updated_at=stamp, item_ids=[r.item_id for r in rows], revision=0)
    with _transaction() as tx:
        tx.save(page, condition=PageRow.pk.does_not_exist())
        for row in rows:
            tx.save(row, condition=ItemRow.pk.does_not_exist())
    return render(page, rows, base_url)


def rename_page(page_id: str, title: str, base_url: str) -> dict[str, Any]:
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
    return render(*load(page_id), base_url)


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


def add_item(page_id: str, spec: Any, base_url: str) -> dict[str, Any]:
    def edit(page: PageRow, items: list[ItemRow]) -> dict[str, Any]:
        _check_capacity(len(page.item_ids) + 1)
        row = _new_item_row(page_id, spec, _stamp())
        with _transaction() as tx:
            tx.save(row, condition=ItemRow.pk.does_not_exist())
            _bump_revision(tx, page, [PageRow.item_ids.set(PageRow.item_ids.append([row.item_id]))], guard_revision=False,
                   condition=size(PageRow.item_ids) < settings().max_items_per_page)
        return render_item(row, base_url)

    return _edit(page_id, edit)


# Stands in, during validation of a patch, for a current text kept in S3: it is not read back.
_STORED_TEXT = "\u2026"


def update_item(page_id: str, item_id: str, patch: dict[str, Any], base_url: str) -> dict[str, Any]:
    """Change the given fields. Giving a long text clears its ``<field>_file_id`` and naming a
    file clears the inline text, unless the patch gives both (which is then a 422)."""
    from pydantic import ValidationError

    from chalicelib.errors import validation_details
    from chalicelib.pages.schemas import item_schemas

    replaced: list[str] = []

    def edit(page: PageRow, items: list[ItemRow]) -> dict[str, Any]:
        row = _find(items, _checked("item", item_id))
        row_cls = type(row)
        type_name = ItemRow.kind.get_discriminator(row_cls)
        if patch.get("type", type_name) != type_name:
            raise Unprocessable("an item's type cannot change; delete it and add a new one")
        offloaded = _offloaded(row)
        merged: dict[str, Any] = {"title": row.title}
        for name in row_cls.content_fields():
            merged[name] = _STORED_TEXT if name in offloaded else getattr(row, name)
        changes = {k: v for k, v in patch.items() if k != "type"}
        for name in row_cls.long_text_fields():
            ref = file_field(name)
            if changes.get(name) is not None and ref not in changes:
                changes[ref] = None
            elif changes.get(ref) is not None and name not in changes:
                changes[name] = None
        merged.update(changes)
        try:
            spec = item_schemas()[type_name].model_validate({"type": type_name, **merged})
        except ValidationError as exc:
            raise Unprocessable("the item would not be valid", validation_details(exc)) from None
        values = spec.model_dump(mode="json", exclude={"type", "title"})
        changed = {k: values[k] for k in changes if k in values}
        stored, new_texts = _item_values(row_cls, page_id, item_id, changed)
        replaced.extend(offloaded.pop(k) for k in list(offloaded) if k in changed)
        offloaded.update(new_texts)
        attrs = row_cls.get_attributes()
        stamp = _stamp()
        actions = [attrs[k].set(v) if v is not None else attrs[k].remove() for k, v in stored.items()]
        actions += [ItemRow.title.set(spec.title), ItemRow.updated_at.set(stamp),
                    ItemRow.offloaded.set(offloaded) if offloaded else ItemRow.offloaded.remove()]
        with _transaction() as tx:
            tx.update(row, actions=actions, condition=ItemRow.pk.exists())
            _bump_revision(tx, page, [], guard_revision=False)
        for k, v in stored.items():  # the row as now stored, for the answer
            setattr(row, k, v)
        row.title, row.updated_at, row.offloaded = spec.title, stamp, offloaded or None
        return render_item(row, base_url)

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


def reorder(page_id: str, order: list[str], base_url: str) -> dict[str, Any]:
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
        return render(page, [by_id[i] for i in order], base_url)

    return _edit(page_id, edit)

