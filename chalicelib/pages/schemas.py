"""Request and response schemas (pydantic). Adding a content type: one ``ItemIn`` subclass here.

Loaded only by routes that take a body or a query, so page reads never import pydantic.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union, get_args, get_origin

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    create_model,
    model_validator,
)

from chalicelib.ids import Id
from chalicelib.pages.models import file_field, url_field
from chalicelib.provider import settings

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Url = Annotated[AnyHttpUrl, Field(max_length=2048)]


class _LongTextMarker:
    """Marks a long text field in a request schema: it gets a ``<field>_file_id`` alternative,
    and a ``<field>_url`` link in responses."""


LONG_TEXT = _LongTextMarker()
# "Any length" within the request limit; past inline_text_max the text is stored in S3. Longer
# texts are uploaded as files (POST /files) and named by the field's `<field>_file_id`.
LongText = Annotated[str, StringConstraints(min_length=1), LONG_TEXT]
TEXT_FILE_ID_DOC = ("an uploaded text file (kind screenplay or subtitles, content type text/plain, "
                    "status processing or later) whose content is this field's text; instead of the text")
MAX_ITEMS = settings().max_items_per_page


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _marked(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated and any(m is LONG_TEXT for m in annotation.__metadata__):
        return True
    return any(_marked(arg) for arg in get_args(annotation))


def long_text_fields(model: type[BaseModel]) -> list[str]:
    return [name for name, info in model.model_fields.items()
            if any(m is LONG_TEXT for m in info.metadata) or _marked(info.annotation)]


class ItemIn(Strict):
    type: str
    title: Title

    @model_validator(mode="after")
    def _one_text_source(self) -> "ItemIn":
        for name in long_text_fields(type(self)):
            given = [n for n in (name, file_field(name)) if getattr(self, n) is not None]
            if len(given) != 1:
                raise ValueError(f"a {self.type} item needs {name} or {file_field(name)}, exactly one"
                                 + (f" (got {' and '.join(given)})" if given else ""))
        return self


class VideoIn(ItemIn):
    type: Literal["video"]
    video_url: Optional[Url] = None
    subtitles_url: Optional[Url] = None
    file_id: Optional[Id] = None
    subtitles_file_id: Optional[Id] = None

    @model_validator(mode="after")
    def _has_source(self) -> "VideoIn":
        if not (self.video_url or self.file_id):
            raise ValueError("a video needs video_url or file_id")
        return self


class AudioIn(ItemIn):
    type: Literal["audio"]
    transcript: Optional[LongText] = None
    transcript_file_id: Optional[Id] = Field(None, description=TEXT_FILE_ID_DOC)
    audio_url: Optional[Url] = None
    file_id: Optional[Id] = None


class TextIn(ItemIn):
    type: Literal["text"]
    body: Optional[LongText] = None
    body_file_id: Optional[Id] = Field(None, description=TEXT_FILE_ID_DOC)


def item_schemas() -> dict[str, type[ItemIn]]:
    """Type name -> schema, discovered from the subclasses above."""
    return {cls.model_fields["type"].annotation.__args__[0]: cls for cls in ItemIn.__subclasses__()}  # type: ignore[union-attr]


ItemUnion = Annotated[Union[tuple(ItemIn.__subclasses__())], Field(discriminator="type")]  # type: ignore[misc]


class ItemCreate(RootModel[ItemUnion]):  # type: ignore[valid-type]
    """One content item; ``type`` picks the schema."""


class ItemPatch(RootModel[dict[str, Any]]):
    """Any subset of the item type's fields except ``type``; the merged item must be valid."""


class PageCreate(Strict):
    title: Title
    items: list[ItemUnion] = Field(default_factory=list, max_length=MAX_ITEMS)  # type: ignore[valid-type]


class PagePatch(Strict):
    title: Title


class PageOrder(Strict):
    items: list[Id] = Field(max_length=MAX_ITEMS, description="every item id of the page, once, in order")


class PageListQuery(Strict):
    limit: int = Field(20, ge=1, le=100)
    # A cursor carries a title key (<= 1,000 UTF-8 bytes, plus JSON escapes of at most the 200
    # title characters) and a page id: under 2,100 bytes of JSON, so under 2,800 in base64.
    cursor: Optional[Annotated[str, StringConstraints(max_length=4096)]] = None
    title: Optional[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = None


# Response shapes, for the OpenAPI document.
class PageSummary(BaseModel):
    id: str
    title: str
    url: str


class PageList(BaseModel):
    count: int
    next: Optional[str]
    previous: Optional[str]
    results: list[PageSummary]


class ItemOutBase(BaseModel):
    id: str
    type: str
    title: str
    views: int


TEXT_DOC = ("the text, inline while it is short; null when it is long or an uploaded file: then `{url}` "
            "links the full text")
TEXT_URL_DOC = ("absolute URL of the full text (GET: 302 to a short-lived download of the text as "
                "text/plain UTF-8, or the text itself); null while `{field}` is inline")


def _out_model(schema: type[ItemIn]) -> type[BaseModel]:
    """The response shape of a content type, made from its request schema: every field (null when
    unset), and after each long text field its `<field>_url`."""
    fields: dict[str, Any] = {"type": (schema.model_fields["type"].annotation, ...)}
    long_fields = long_text_fields(schema)
    for name, info in schema.model_fields.items():
        if name in ("type", "title"):
            continue
        if name in long_fields:
            fields[name] = (Optional[str], Field(..., description=TEXT_DOC.format(url=url_field(name))))
            fields[url_field(name)] = (Optional[str], Field(..., description=TEXT_URL_DOC.format(field=name)))
        else:
            fields[name] = (Optional[str], Field(..., description=info.description))
    return create_model(schema.__name__.removesuffix("In") + "Out", __base__=ItemOutBase, **fields)


ItemOutUnion = Annotated[Union[tuple(_out_model(s) for s in ItemIn.__subclasses__())],  # type: ignore[misc]
                         Field(discriminator="type")]


class ItemOut(RootModel[ItemOutUnion]):  # type: ignore[valid-type]
    """One content item as readers see it. A long text field is inline while short; otherwise it
    is null and `<field>_url` links the full text, so no response nears Lambda's 6 MB limit."""


class PageDetail(BaseModel):
    id: str
    title: str
    created_at: str
    updated_at: str
    items: list[ItemOutUnion]  # type: ignore[valid-type]
