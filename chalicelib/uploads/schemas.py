"""Upload request bodies and queries (pydantic)."""
from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal, Optional

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

Kind = Literal["screenplay", "video", "audio", "subtitles"]
Audience = Literal["0+", "6+", "12+", "16+", "18+"]
PartNumber = Annotated[int, Field(ge=1, le=10000)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Crc32 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{6}==$")]
Md5 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{22}==$")]
# A part number as a JSON object key: ASCII digits only ("²" or a 5,000-digit string are refused
# here, before anything calls int() on them).
def _part_key(value: object) -> object:
    if isinstance(value, str):
        if not re.fullmatch(r"[1-9][0-9]{0,4}", value):
            raise ValueError("keys are part numbers: 1 to 10000 in ASCII digits")
        return int(value)
    return value


PartKey = Annotated[int, BeforeValidator(_part_key), Field(ge=1, le=10000)]


# Direction controls can show "txt.exe" as "exe.txt" to whoever downloads the file.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_hidden_characters(text: str) -> bool:
    """Control characters or direction overrides: what a name must not hold."""
    return any(unicodedata.category(c) == "Cc" or c in _BIDI for c in text)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileCreate(Strict):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    size: Annotated[int, Field(gt=0, description="bytes")]
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=255)]
    kind: Kind
    target_audience: Optional[Audience] = None
    sha256: Optional[Sha256] = None
    part_checksum: Optional[Literal["crc32"]] = Field(
        None, description="parts will carry their CRC32, which S3 verifies as each part arrives")

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        """Keep the base name only; it is metadata, never part of an object key."""
        name = value.replace("\\", "/").rsplit("/", 1)[-1].strip()
        if not name or name in (".", "..") or has_hidden_characters(name):
            raise ValueError("a file name without control characters, direction overrides or path")
        return name

    @field_validator("content_type")
    @classmethod
    def _base_type(cls, value: str) -> str:
        return value.split(";", 1)[0].strip().lower()


class PartsRequest(Strict):
    part_numbers: list[PartNumber] = Field(min_length=1, max_length=100)
    content_md5: Optional[dict[PartKey, Md5]] = Field(
        None, max_length=100, description="base64 MD5 per part number, signed into that part's URL")
    checksums: Optional[dict[PartKey, Crc32]] = Field(
        None, max_length=100,
        description="base64 CRC32 per part number; required for files created with part_checksum")


class CompletedPart(Strict):
    part_number: PartNumber
    etag: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class CompleteRequest(Strict):
    parts: list[CompletedPart] = Field(min_length=1, max_length=10000)
    sha256: Optional[Sha256] = Field(None, description="the whole file's sha256, if not declared on create")


class FileListQuery(Strict):
    limit: int = Field(20, ge=1, le=100)
    cursor: Optional[Annotated[str, StringConstraints(max_length=1024)]] = None


class UploadPlan(BaseModel):
    upload_id: str
    part_size: int
    part_count: int
    expires_at: str
    part_checksum: Optional[str] = None


class ReferSummary(BaseModel):
    state: Literal["none", "active", "frozen", "expired"]
    expires_at: Optional[str]
    downloaders: int


class FileOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    status: Literal["pending", "processing", "ready", "db_ready", "error"]
    status_label: str = Field(description="how people see the status: `--------` for pending")
    sequence: int = Field(description="+1 with every event of this file; the live channel carries it")
    status_at: str
    filename: str
    size: int
    content_type: str
    kind: str
    target_audience: Optional[str]
    sha256: Optional[str]
    error: Optional[str] = None
    error_code: Optional[str] = Field(None, description="why, for machines: `unclaimed` (no analyzer picked it "
                                      "up; POST /files/{id}/refer retries), `unreadable`, ...")
    created_at: str
    updated_at: str
    upload: Optional[UploadPlan] = None
    refer: ReferSummary
    rating: Optional[Audience] = Field(None, description="the final age rating (after people's overrides); "
                                       "null until the file is rated (db_ready)")
    ai_rating: Optional[Audience] = Field(None, description="the analyzers' rating alone")
    rated_at: Optional[str] = None
    analysis_run: int = Field(0, description="re-analyses asked for (POST /files/{id}/analysis)")
    text_available: bool = Field(False, description="GET /files/{id}/text serves the derived plain text")


class SignedPart(BaseModel):
    part_number: int
    url: str
    expires_at: str
    headers: dict[str, str]


class SignedParts(BaseModel):
    parts: list[SignedPart]


class StoredPart(BaseModel):
    part_number: int
    etag: str
    size: int
    checksum_crc32: Optional[str] = None


class StoredParts(BaseModel):
    parts: list[StoredPart]


class FileList(BaseModel):
    count: int
    next: Optional[str]
    results: list[FileOut]
