"""``kadr``: the command-line uploader for Kadr's ingest API.

The core is :class:`kadr_cli.uploader.Uploader`, usable in-process; ``kadr_cli.main`` is the
command line around it. ``Uploader`` is loaded on first use, so ``kadr --help`` (which imports
this package) never pays for ``requests``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kadr_cli.errors import UploadError

if TYPE_CHECKING:
    from kadr_cli.uploader import Uploader

__all__ = ["Uploader", "UploadError"]


def __getattr__(name: str) -> Any:
    if name == "Uploader":
        from kadr_cli.uploader import Uploader

        return Uploader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
