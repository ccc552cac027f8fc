"""Where the CLI finds the API and its token: flags, then KADR_API / KADR_TOKEN, then the
``.kadr/local.json`` that ``make dev`` writes (searched upward from the working directory)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from kadr_cli.errors import UploadError


def find_local_json(start: Path | None = None) -> Path | None:
    """The nearest ``.kadr/local.json`` at or above ``start``: `kadr` works from any subfolder."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / ".kadr" / "local.json"
        if candidate.is_file():
            return candidate
    return None


def resolve(api: str | None, token: str | None, role: str = "uploader") -> tuple[str, str]:
    """(API base URL, token): flags win over the environment, which wins over local.json."""
    api = api or os.environ.get("KADR_API") or None
    token = token or os.environ.get("KADR_TOKEN") or None
    if not (api and token):
        path = find_local_json()
        if path is not None:
            try:
                local = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise UploadError(f"cannot read {path}: {exc}") from None
            api = api or local.get("api")
            token = token or (local.get("tokens") or {}).get(role)
    if not api:
        raise UploadError("no API address: pass --api, set KADR_API, or run `make dev` (writes .kadr/local.json)")
    if not token:
        raise UploadError(f"no {role} token: pass --token, set KADR_TOKEN, or run `make dev`")
    return api.rstrip("/"), token
