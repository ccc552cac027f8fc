"""The pages table: one partition per page holding its META row and its item rows.

``PAGE#<id>/META`` keeps title, the editor's item order and a revision; ``PAGE#<id>/ITEM#<id>``
keeps one content item and its ``views`` counter. One Query on the partition returns the whole
page with its counters. The ``by_title`` index (all pages in one partition, sorted by folded
title) serves the list and its prefix filter without a Scan.
"""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from chalicelib import db
from chalicelib.provider import settings

PAGES_GSI_PK = "PAGES"
# DynamoDB refuses sort keys over 1,024 bytes (moto checks puts but not updates). Folding can
# triple a title's length and UTF-8 takes up to 4 bytes a character, so the key is cut, at a
# character boundary, well below that.
TITLE_KEY_MAX_BYTES = 1000


def page_pk(page_id: str) -> str:
    return f"PAGE#{page_id}"


def item_sk(item_id: str) -> str:
    return f"ITEM#{item_id}"


def title_sort_key(title: str) -> str:
    """Case-insensitive sort and prefix-search key of a title, within DynamoDB's key limit."""
    folded = title.casefold()
    encoded = folded.encode("utf-8")
    if len(encoded) <= TITLE_KEY_MAX_BYTES:
        return folded
    return encoded[:TITLE_KEY_MAX_BYTES].decode("utf-8", errors="ignore")


class LongText(UnicodeAttribute):
    """Text of any length: past ``inline_text_max`` it is kept in S3 and only its key is stored.

    Each long text field ``<name>`` has a ``TextFileRef`` beside it, ``<name>_file_id``: the
    text may instead be an uploaded text file. Readers get either the text inline or, when it is
    long or a file, ``<name>: null`` and ``<name>_url``, a link to the full text.
    """


class TextFileRef(UnicodeAttribute):
    """The id of an uploaded text file that holds a long text field's text (``<field>_file_id``)."""


def file_field(text_field: str) -> str:
    """The name of the file reference that can stand for a long text field."""
    return f"{text_field}_file_id"


def url_field(text_field: str) -> str:
    """The name of the response field that links a long text field's full text."""
    return f"{text_field}_url"


class PagesTable(db.KadrModel):
    class Meta(db.TableMeta):
        table_name = settings().pages_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class TitleIndex(GlobalSecondaryIndex["PageRow"]):
    class Meta:
        index_name = "by_title"
        projection = IncludeProjection(["title", "kind"])

    gsi_pk = UnicodeAttribute(hash_key=True)
    title_key = UnicodeAttribute(range_key=True)


class PageRow(PagesTable, discriminator="page"):
    title = UnicodeAttribute()
    gsi_pk = UnicodeAttribute(default=PAGES_GSI_PK)
    title_key = UnicodeAttribute()
    item_ids = ListAttribute(of=UnicodeAttribute, default=list)
    revision = NumberAttribute(default=0)
    by_title = TitleIndex()

    @property
    def page_id(self) -> str:
        return self.pk.removeprefix("PAGE#")


class ItemRow(PagesTable):
    """Base of every content type; a type is a subclass with a discriminator (content_types.py)."""

    title = UnicodeAttribute()
    views = NumberAttribute(default=0)
    offloaded = MapAttribute[str, Any](null=True)

    @property
    def item_id(self) -> str:
        return self.sk.removeprefix("ITEM#")

    @classmethod
    def content_fields(cls) -> dict[str, Any]:
        """Attributes the content type adds to the base item, in declaration order."""
        base = ItemRow.get_attributes()
        return {name: attr for name, attr in cls.get_attributes().items() if name not in base}

    @classmethod
    def long_text_fields(cls) -> list[str]:
        return [name for name, attr in cls.content_fields().items() if isinstance(attr, LongText)]
