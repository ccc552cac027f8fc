"""Bulk upload request bodies, queries and responses (pydantic)."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from chalicelib.uploads.schemas import FileCreate, Sha256, Strict, UploadPlan, has_hidden_characters

MAX_ITEMS = 1000
MAX_ACCOUNTS = 100
# An account: 1-64 letters (any script), digits, and . _ @ + - (a studio's or a channel's handle).
ACCOUNT_PATTERN = r"^[\w.@+-]{1,64}$"
Account = Annotated[str, StringConstraints(pattern=ACCOUNT_PATTERN)]
TaskStatus = Literal["pending", "running", "completed", "failed", "partially_completed"]


class BulkItem(FileCreate):
    account: Account


class BulkCreate(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    items: list[BulkItem] = Field(min_length=1, max_length=MAX_ITEMS)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        """Shown in the console, the CLI and the report's download name, like a file's name."""
        if has_hidden_characters(value):
            raise ValueError("a task name without control characters or direction overrides")
        return value

    @model_validator(mode="after")
    def _few_accounts(self) -> "BulkCreate":
        if len({item.account for item in self.items}) > MAX_ACCOUNTS:
            raise ValueError(f"a task names at most {MAX_ACCOUNTS} accounts")
        return self


class ItemFix(Strict):
    """What a retry may declare anew for one failed item (the file was fixed, or misdeclared)."""

    index: int = Field(ge=0, lt=MAX_ITEMS)
    size: Optional[Annotated[int, Field(gt=0)]] = None
    sha256: Optional[Sha256] = None
    content_type: Optional[Annotated[str, StringConstraints(min_length=3, max_length=255)]] = None


class RetryRequest(Strict):
    items: list[ItemFix] = Field(default_factory=list, max_length=MAX_ITEMS,
                                 description="new declarations for some of the failed items (by index)")


class ItemPlan(BaseModel):
    index: int
    account: str
    file_id: str
    status: str = Field(description="the file's status")
    upload: Optional[UploadPlan] = Field(None, description="the multipart plan while the upload is open")


class BulkCreated(BaseModel):
    id: str
    name: str
    created_at: str
    items: list[ItemPlan]


class Counts(BaseModel):
    status: TaskStatus
    total: int
    pending: int
    succeeded: int
    failed: int
    cancelled: int
    percent: float
    started_at: Optional[str]
    completed_at: Optional[str]


class AccountOut(Counts):
    account: str


class BulkTaskOut(Counts):
    id: str
    name: str
    created_at: str
    accounts: list[AccountOut]


class BulkTaskBrief(BaseModel):
    id: str
    name: str
    created_at: str
    total: int
    accounts: list[str]


class BulkList(BaseModel):
    next: Optional[str]
    results: list[BulkTaskBrief]


class BulkListQuery(Strict):
    # 50 tasks of 100 accounts of 64 \u-escaped characters stay under 2 MB in Lambda's response
    limit: int = Field(20, ge=1, le=50)
    cursor: Optional[Annotated[str, StringConstraints(max_length=512)]] = None


class LogQuery(Strict):
    account: Optional[Annotated[str, StringConstraints(max_length=64)]] = Field(
        None, description="one account's lines; empty: the task-level lines only")
    level: Optional[Literal["info", "warning", "error"]] = Field(None, description="this level and above")
    after: int = Field(0, ge=0, le=10**9, description="a line's `seq` (the previous page's `next`)")
    limit: int = Field(100, ge=1, le=1000)


class LogLine(BaseModel):
    seq: int
    at: str
    account: Optional[str]
    level: Literal["info", "warning", "error"]
    message: str
    file_id: Optional[str]


class LogPage(BaseModel):
    lines: list[LogLine]
    next: Optional[str]


class ReportQuery(Strict):
    format: Literal["csv", "xlsx"] = "csv"


class RetryOut(BaseModel):
    account: str
    items: list[ItemPlan]


class CancelOut(BaseModel):
    account: str
    cancelled: list[int] = Field(description="indexes of the items cancelled")
