"""``kadr``: the command-line uploader for Kadr's ingest API.

The core is :class:`kadr_cli.uploader.Uploader`, usable in-process; ``kadr_cli.main`` is the
command line around it.
"""
from kadr_cli.errors import UploadError
from kadr_cli.uploader import Uploader

__all__ = ["Uploader", "UploadError"]
