"""Request and response schemas (pydantic). Adding a content type: one ``ItemIn`` subclass here.

Loaded only by routes that take a body or a query, so page reads never import pydantic.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    model_validator,
)

from chalicelib.ids import Id
from chalicelib.provider import settings

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Url = Annotated[AnyHttpUrl, Field(max_length=2048)]
# "Any length" within the request limit; past inline_text_max the text is stored in S3.
LongText = Annotated[str, StringConstraints(min_length=1)]
MAX_ITEMS = settings().max_items_per_page


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemIn(Strict):
    type: str
    title: Title


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
    transcript: LongText
    audio_url: Optional[Url] = None
    file_id: Optional[Id] = None


class TextIn(ItemIn):
    type: Literal["text"]
    body: LongText


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


class ItemOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    type: str
    title: str
    views: int


class PageDetail(BaseModel):
    id: str
    title: str
    created_at: str
    updated_at: str
    items: list[ItemOut]
