"""The analysis result document an analyzer posts back (published in /openapi.json)."""
from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Severity = Literal["none", "mild", "moderate", "severe"]
Audience = Literal["0+", "6+", "12+", "16+", "18+"]
Text = Annotated[str, StringConstraints(max_length=4000)]

EXAMPLE = {
    "analyzer": {"name": "acme-screenplay-ai", "version": "2.3.0"},
    "rating": "16+",
    "summary": "Two scenes of graphic violence and repeated strong language.",
    "findings": [
        {"category": "violence", "severity": "severe", "scene": "12", "line": 431,
         "excerpt": "Он бьёт его монтировкой, кровь заливает пол.", "comment": "Detailed depiction of a killing."},
        {"category": "obscene_language", "severity": "moderate", "scene": "3", "line": 88,
         "excerpt": "…", "comment": "Obscene word in dialogue."},
    ],
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Analyzer(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    version: Annotated[str, StringConstraints(min_length=1, max_length=50)]


class Finding(Strict):
    category: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="a violation category id from GET /violations, or the analyzer's own name for it")
    severity: Severity
    scene: Optional[Union[Annotated[str, StringConstraints(max_length=50)], int]] = Field(
        None, description="the scene's number or heading as the screenplay gives it")
    line: Optional[Annotated[int, Field(ge=1, le=10_000_000)]] = None
    excerpt: Text = ""
    comment: Text = ""
    # Optional, added with the built-in analyzer (older documents stay valid):
    age: Optional[Audience] = Field(None, description="the age this finding calls for; else the catalog's "
                                    "ages for the category and severity decide")
    qualifiers: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list, max_length=20, description="what raised or lowered the severity (naturalism, "
        "condemnation, a minor involved, ...)")
    scene_label: Optional[Annotated[str, StringConstraints(max_length=50)]] = Field(
        None, description="the scene's number as the script gives it, when `scene` is its 1-based index")
    scene_heading: Optional[Annotated[str, StringConstraints(max_length=500)]] = None
    basis: Optional[Annotated[str, StringConstraints(max_length=1000)]] = Field(
        None, description="the 436-FZ article the finding rests on")
    evidence: Optional[Annotated[int, Field(ge=1, le=1_000_000)]] = Field(
        None, description="how many matches this finding stands for")
    advice: Optional[Annotated[str, StringConstraints(max_length=2000)]] = Field(
        None, description="what would have to change for the finding to fall below its age")


class AnalysisResult(Strict):
    """One analyzer's findings for one file. At most 5 MB inline; larger through result-upload."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})
    analyzer: Analyzer
    rating: Optional[Audience] = Field(None, description="the analyzer's own age rating, if it gives one")
    summary: Annotated[str, StringConstraints(max_length=20_000)] = ""
    findings: list[Finding] = Field(default_factory=list, max_length=20_000)


class ResultAccepted(BaseModel):
    file_id: str
    analyzer: str
    status: str = Field(description="the file's status after this result")
    findings: int
    created: bool = Field(description="false when this exact document had been posted before")


class ResultUploadIn(BaseModel):
    """``le`` is refer.results.UPLOAD_MAX, written out so this module stays free of storage imports
    (tests/unit/test_refer.py holds the two equal)."""

    model_config = ConfigDict(extra="forbid")

    size: int = Field(ge=1, le=100 * 1024 * 1024, description="the document's exact size in bytes: the presigned PUT "
                      "is signed for that Content-Length, so S3 refuses any other body (at most 100 MiB)")


class ResultUpload(BaseModel):
    upload_id: str
    url: str
    expires_at: str
    max_bytes: int
    headers: dict[str, str]


class ReferOut(BaseModel):
    state: Literal["none", "active", "frozen", "expired"]
    key: Optional[str] = Field(description="the key that works now; null when none works")
    url: Optional[str] = Field(description="absolute URL of GET /download/{key}")
    expires_at: Optional[str]
    next_rotation_at: Optional[str] = Field(description="null once frozen or on the last key")
    downloaders: int
    issue: int
