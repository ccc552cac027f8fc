"""``kadr upload FILE``: the command line around kadr_cli.uploader.Uploader.

Exit codes: 0 done (verified by the server; with --no-wait: uploaded, the verdict not awaited),
1 failed (one line on stderr: ``kadr: error: ...``), 2 bad usage, 130 interrupted (the state is
kept; the same command resumes).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

from kadr_cli import bulk, violations
from kadr_cli.config import resolve
from kadr_cli.errors import UploadError


def version() -> str:
    """The installed package's version; "unknown" when it runs from a tree that isn't installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("kadr")
    except PackageNotFoundError:
        return "unknown"


class _VersionAction(argparse.Action):
    """``--version``, looked up only when asked for (every other run skips the metadata scan)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"kadr {version()}")
        parser.exit()


def parser() -> argparse.ArgumentParser:
    """The command line (a function, so tests and docs can build it without running it)."""
    top = argparse.ArgumentParser(prog="kadr", description="Kadr command-line client.")
    top.add_argument("--version", action=_VersionAction, help="print the version and exit")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser("upload", help="upload a file (resumable, parallel parts, verified by sha256)",
                             description="Upload FILE to Kadr. Interrupted uploads resume when the same "
                                         "command runs again.")
    up.add_argument("file", metavar="FILE")
    up.add_argument("--kind", help="screenplay, video, audio or subtitles (default: from the extension)")
    up.add_argument("--target-audience", metavar="AGE", help="0+, 6+, 12+, 16+ or 18+")
    up.add_argument("--content-type", help="MIME type (default: from the extension)")
    up.add_argument("--api", help="API base URL (default: $KADR_API, else .kadr/local.json)")
    up.add_argument("--token", help="bearer token (default: $KADR_TOKEN, else the uploader token in "
                                    ".kadr/local.json)")
    up.add_argument("--concurrency", type=_concurrency, default=8, help="parts in flight (default 8)")
    up.add_argument("--state-dir", help="resume state (default: $KADR_UPLOAD_STATE_DIR, else ~/.kadr/uploads)")
    bar = up.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="always show the progress bar (default: when stdout and stderr are a terminal; "
                          "else a plain line or two on stderr)")
    bar.add_argument("--no-progress", dest="progress", action="store_false",
                     help="neither a bar nor progress lines")
    up.add_argument("--no-wait", dest="wait", action="store_false",
                    help="exit once S3 has assembled the file, without waiting for the server to verify "
                         "its size and sha256 (status stays pending; GET /files/{id} tells the verdict)")
    up.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    violations.add_parser(commands)
    bulk.add_parser(commands)
    return top


def _concurrency(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= n <= 64:
        raise argparse.ArgumentTypeError("must be between 1 and 64")
    return n


def fail(message: str, code: int = 1) -> int:
    """One line on stderr, whatever the message holds; the exit code."""
    print(f"kadr: error: {' '.join(message.split())}", file=sys.stderr)
    return code


def upload(args: argparse.Namespace) -> int:
    """``kadr upload``; the uploader (and requests) is imported only here."""
    from kadr_cli.uploader import Uploader

    if not os.path.exists(args.file):
        return fail(f"{args.file}: no such file")
    try:
        api, token = resolve(args.api, args.token)
        uploader = Uploader(api, token, concurrency=args.concurrency, state_dir=args.state_dir,
                            progress=args.progress)
        summary = uploader.upload(args.file, kind=args.kind, target_audience=args.target_audience,
                                  content_type=args.content_type, wait=args.wait)
    except UploadError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print("\nkadr: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        verb = "resumed and uploaded" if summary["resumed"] else "uploaded"
        verified = summary["seconds_to_verified"]
        check = (f"verified after {verified:.1f} s" if verified is not None
                 else "not waiting for the server's check")
        print(f"{verb} {summary['filename']} -> {summary['file_id']} ({summary['status']}); "
              f"{summary['bytes_sent'] / 2**20:.1f} MiB sent, complete after {summary['seconds_to_complete']:.1f} s "
              f"({summary['mib_per_s_to_complete']:.1f} MiB/s), {check}; {summary['parts_reused']} part(s) reused")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The ``kadr`` console script; returns the exit code."""
    args = parser().parse_args(argv)
    if args.command == "upload":
        return upload(args)
    if args.command == "violations":
        return violations.run(args)
    if args.command == "bulk":
        return bulk.run(args)
    return fail(f"unknown command {args.command}", 2)


if __name__ == "__main__":
    sys.exit(main())
