"""Request and response bodies of the rating routes (pydantic)."""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.ids import Id

Severity = Literal["none", "mild", "moderate", "severe"]
Audience = Literal["0+", "6+", "12+", "16+", "18+"]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # every control but tab and line breaks


def _no_controls(value: str) -> str:
    """People's text holds no control characters, which the console, a terminal and a workbook
    would each show (or choke on) differently."""
    if _CONTROL.search(value):
        raise ValueError("text without control characters (tab and line breaks are fine)")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("text that is not only spaces")
    return value


def _text(max_length: int, required: bool = False) -> Any:
    """A label (empty means none) or, ``required``, a text with something to read."""
    if required:
        return Annotated[str, StringConstraints(min_length=1, max_length=max_length), AfterValidator(_no_controls),
                         AfterValidator(_not_blank)]
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(_no_controls)]


Short = _text(100)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FilePatch(Strict):
    target_audience: Optional[Audience] = Field(description="the audience the work aims at; null clears it")


class CommentIn(Strict):
    finding_id: Optional[Id] = Field(
        None, description="the finding commented on; omit for a free comment")
    category: Optional[Short] = None
    severity: Optional[Severity] = Field(None, description="a person's severity on a finding overrides the AI's")
    scene: Optional[_text(50)] = None
    text: _text(4000, required=True)


class CommentOut(BaseModel):
    id: str
    source: Literal["user", "ai"]
    author: str
    finding_id: Optional[str]
    category: Optional[str]
    severity: Optional[Severity]
    scene: Optional[str]
    text: str
    created_at: str


class CommentList(BaseModel):
    count: int
    next: Optional[str]
    results: list[CommentOut]


class CommentQuery(Strict):
    limit: int = Field(50, ge=1, le=100)
    cursor: Optional[Annotated[str, StringConstraints(max_length=1024)]] = None


class ConclusionIn(Strict):
    text: _text(20_000, required=True)


class Recommendation(BaseModel):
    model_config = ConfigDict(extra="allow")
    file_id: str
    status: str
    refer: dict[str, Any] = Field(description="the file's refer key state (the record shares it)")
    rating: Optional[Audience]
    ai_rating: Optional[Audience]
    target_audience: Optional[Audience]
    exceeds_target: bool
    findings: list[dict[str, Any]] = Field(description="findings someone commented on: AI and final severity, comments")
    comments: list[dict[str, Any]] = Field(description="free comments (no finding)")
    counts: dict[str, int]
    truncated: bool
    conclusion: Optional[dict[str, Any]]


class ReportFinding(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    category: str
    category_name: str
    severity: Severity
    age: Optional[Audience]
    basis: str
    qualifiers: list[str]
    scene: Optional[int]
    scene_label: Optional[str]
    line: Optional[int]
    excerpt: str
    evidence: int
    advice: str


class ReportScene(BaseModel):
    model_config = ConfigDict(extra="allow")
    scene: Optional[int]
    scene_label: str
    heading: str
    rating: Audience
    findings: int


class ReportCategory(BaseModel):
    category: str
    name: str
    severity: Severity
    age: Optional[Audience]
    findings: int


class Report(BaseModel):
    model_config = ConfigDict(extra="allow")
    file_id: str
    status: str
    rating: Audience = Field(description="final, after people's severity overrides")
    ai_rating: Audience
    target_audience: Optional[Audience]
    exceeds_target: bool
    labelling: list[str]
    exceedances: list[ReportFinding] = Field(description="findings above the target, each with advice")
    findings: list[ReportFinding]
    scenes: list[ReportScene]
    categories: list[ReportCategory]
    truncated: bool = Field(description="true when a list was cut to keep the response under 6 MB; `counts` "
                                        "has the full numbers and ?format=xlsx every finding")
    counts: dict[str, int]
    qualifiers: dict[str, str] = Field(default_factory=dict, description="what each qualifier the findings carry "
                                       "means (the built-in analyzer's; at most 19 short lines)")


class ReportQuery(Strict):
    format: Literal["json", "xlsx"] = "json"


class AnalysisAccepted(BaseModel):
    file_id: str
    status: str
    analysis_run: int = Field(description="the run asked for; GET /files/{id} shows `analysis_run` and the "
                                          "report `rated_run` once it is written")
