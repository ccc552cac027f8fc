"""The console's configuration document (pydantic, for the OpenAPI document)."""
from __future__ import annotations

from pydantic import BaseModel, Field


class ConsoleConfig(BaseModel):
    stage: str
    ws: str | None = Field(description="the WebSocket status channel's URL; null: the console polls REST")
    local: bool = Field(description="served by the local stack (`make dev`)")
    tokens: dict[str, str] | None = Field(
        description="a bearer token per role, only on the local stack; always null elsewhere")
