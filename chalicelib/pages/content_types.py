"""Content types as stored. Adding a type: one row class here, one request schema in schemas.py.

A ``LongText`` field comes with a ``TextFileRef`` named ``<field>_file_id`` (an uploaded text file
standing for the text); the request schema names both.

Nothing else names the types: the registry below, the request union, the OpenAPI document and
the detail view all discover them from these subclasses.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from chalicelib.pages.models import ItemRow, LongText, TextFileRef


class VideoItem(ItemRow, discriminator="video"):
    video_url = UnicodeAttribute(null=True)
    subtitles_url = UnicodeAttribute(null=True)
    file_id = UnicodeAttribute(null=True)
    subtitles_file_id = UnicodeAttribute(null=True)


class AudioItem(ItemRow, discriminator="audio"):
    transcript = LongText(null=True)
    transcript_file_id = TextFileRef(null=True)
    audio_url = UnicodeAttribute(null=True)
    file_id = UnicodeAttribute(null=True)


class TextItem(ItemRow, discriminator="text"):
    body = LongText(null=True)
    body_file_id = TextFileRef(null=True)


def row_types() -> dict[str, type[ItemRow]]:
    """Discriminator value -> row class, for every declared content type."""
    return {ItemRow.kind.get_discriminator(cls): cls for cls in ItemRow.__subclasses__()}
