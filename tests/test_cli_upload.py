"""The `kadr upload` CLI against the local stack: intact uploads, part CRC32s, the sha256
declared on complete, resume, retries, --no-wait, exit codes.

Part size is 5 MiB here (conftest sets KADR_PART_SIZE), so a 64 MiB file has 13 parts.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import threading
import time
import zlib
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from requests.adapters import HTTPAdapter

from chalicelib.provider import client, settings
from infra.stack import ROOT
from kadr_cli import main as cli
from kadr_cli.api import RetryPolicy, make_session
from kadr_cli.checksums import BackgroundHash, PartChecksums, crc32_of_range
from kadr_cli.config import resolve
from kadr_cli.errors import UploadError
from kadr_cli.parts import PartDone
from kadr_cli.signing import Signer
from kadr_cli.uploader import Uploader
from tests.helpers import Api

MIB = 1024 * 1024
PART = 5 * MIB  # conftest's KADR_PART_SIZE
FAST = RetryPolicy(attempts=6, base=0.01, cap=0.05)
KADR = ROOT / ".venv" / "bin" / "kadr"


class Crash(Exception):
    """Stands in for the process dying after some parts."""


def random_file(folder: Path, size: int, name: str = "clip.mp4") -> Path:
    path = folder / name
    with open(path, "wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 8 * MIB))
            out.write(block)
            left -= len(block)
    return path


def local_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def local_crc32s(path: Path, part_size: int = PART) -> dict[int, str]:
    data = path.read_bytes()
    return {i // part_size + 1: crc32_b64(data[i:i + part_size]) for i in range(0, len(data), part_size)}


def object_key(file_id: str) -> str:
    from chalicelib.uploads.models import FileRow

    return FileRow.get(file_id, consistent_read=True).object_key


def stored_sha256(file_id: str) -> str:
    body = client("s3").get_object(Bucket=settings().media_bucket, Key=object_key(file_id))["Body"]
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(8 * MIB), b""):
        digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture
def uploaded() -> Iterator[list[str]]:
    """File ids a test created; their objects are deleted after it (moto keeps them in memory)."""
    ids: list[str] = []
    yield ids
    s3 = client("s3")
    for file_id in ids:
        try:
            s3.delete_object(Bucket=settings().media_bucket, Key=object_key(file_id))
        except Exception:  # noqa: BLE001 - cleanup only
            pass


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def uploader(stack: Any, state_dir: Path, **kw: Any) -> Uploader:
    kw.setdefault("retry", FAST)
    return Uploader(stack.api_url, stack.tokens["uploader"], state_dir=state_dir, progress=False, **kw)


def state_files(state_dir: Path) -> list[Path]:
    return sorted(state_dir.glob("*.json")) if state_dir.exists() else []


# ---------------------------------------------------------------- in-process, real stack

def test_a_64_mib_file_arrives_intact(stack: Any, api: Api, tmp_path: Path, state_dir: Path,
                                      uploaded: list[str]) -> None:
    path = random_file(tmp_path, 64 * MIB)
    seen: list[int] = []
    summary = uploader(stack, state_dir, concurrency=8).upload(
        path, target_audience="12+", on_part_done=lambda done: seen.append(done.part_number))
    uploaded.append(summary["file_id"])

    assert summary["status"] == "processing"  # the server verified size and sha256
    assert summary["bytes_sent"] == 64 * MIB and summary["parts_sent"] == 13 == summary["part_count"]
    assert summary["parts_reused"] == 0 and summary["resumed"] is False
    assert sorted(seen) == list(range(1, 14))
    assert summary["sha256"] == local_sha256(path) == stored_sha256(summary["file_id"])
    file = api.get(f"/files/{summary['file_id']}", role="uploader").json()
    assert file["status"] == "processing" and file["size"] == 64 * MIB
    assert file["kind"] == "video" and file["content_type"] == "video/mp4" and file["target_audience"] == "12+"
    assert state_files(state_dir) == []  # nothing left to resume
    # Batched: the 13 parts fit one batch of 32, but a batch takes only the parts whose CRC32 is known or
    # being computed, so the first one or two calls, made while the workers start, hold a few parts each.
    assert summary["sign_calls"] <= 5
    assert summary["part_checksum"] == "crc32" and summary["crc32_parts_computed"] == 13
    assert summary["verified"] is True
    assert 0 < summary["seconds_to_complete"] <= summary["seconds_to_verified"] <= summary["seconds"]


class Recorder(HTTPAdapter):
    """Records what the uploader sends: the API calls' JSON bodies and each S3 part PUT's headers."""

    def __init__(self, api_base: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.api_base = api_base
        self.calls: list[tuple[str, str, Any]] = []
        self.puts: dict[int, list[dict[str, str]]] = {}
        self.lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
        with self.lock:
            if request.url.startswith(self.api_base):
                body = json.loads(request.body) if request.body else None
                self.calls.append((request.method, request.url[len(self.api_base):].split("?")[0], body))
            elif request.method == "PUT" and "partNumber=" in request.url:
                number = int(request.url.split("partNumber=")[1].split("&")[0])
                self.puts.setdefault(number, []).append(dict(request.headers))
        return super().send(request, **kw)

    def bodies(self, method: str, suffix: str) -> list[Any]:
        return [body for m, path, body in self.calls if m == method and path.endswith(suffix)]


def recording_session(stack: Any, concurrency: int) -> tuple[requests.Session, Recorder]:
    session = make_session(concurrency)
    adapter = Recorder(stack.api_url, pool_maxsize=concurrency + 4, max_retries=0)
    session.mount("http://", adapter)
    return session, adapter


def test_parts_carry_their_crc32_and_the_sha256_is_declared_on_complete(
        stack: Any, api: Api, tmp_path: Path, state_dir: Path, uploaded: list[str]) -> None:
    size = 4 * PART + MIB + 1  # 5 parts, the last one short
    path = random_file(tmp_path, size, "cut.mov")
    crcs, sha = local_crc32s(path), local_sha256(path)
    session, rec = recording_session(stack, 3)
    summary = uploader(stack, state_dir, concurrency=3, session=session).upload(path)
    uploaded.append(summary["file_id"])

    (create,) = rec.bodies("POST", "/files")
    assert create["part_checksum"] == "crc32" and "sha256" not in create  # the sha256 comes on complete
    signing = rec.bodies("POST", "/parts")
    assert sorted(n for body in signing for n in body["part_numbers"]) == [1, 2, 3, 4, 5]
    for body in signing:  # every requested part has its CRC32, and only those
        assert body["checksums"] == {str(n): crcs[n] for n in body["part_numbers"]}
    assert sorted(rec.puts) == [1, 2, 3, 4, 5]
    for n, attempts in rec.puts.items():  # S3 got each part with the header signed into its URL
        assert [h.get("x-amz-checksum-crc32") for h in attempts] == [crcs[n]]
    (complete,) = rec.bodies("POST", "/complete")
    assert complete["sha256"] == sha and [p["part_number"] for p in complete["parts"]] == [1, 2, 3, 4, 5]

    assert summary["status"] == "processing" and summary["sha256"] == sha == stored_sha256(summary["file_id"])
    assert summary["crc32_parts_computed"] == 5 and {"hash", "hash_wait", "crc32"} <= set(summary["timings"])
    record = api.get(f"/files/{summary['file_id']}", role="uploader").json()
    assert record["status"] == "processing" and record["sha256"] == sha
    # The multipart upload was created with CRC32: S3 assembled a composite checksum of the parts.
    head = client("s3").head_object(Bucket=settings().media_bucket, Key=object_key(summary["file_id"]),
                                    ChecksumMode="ENABLED")
    composite = crc32_b64(b"".join(base64.b64decode(crcs[n]) for n in range(1, 6)))
    assert head["ChecksumCRC32"].split("-")[0] == composite  # (moto's HEAD leaves out the "-5")
    assert head.get("ChecksumType", "COMPOSITE") == "COMPOSITE"


def crash_after(parts: int) -> Any:
    def crash(done: PartDone) -> None:
        if done.parts_sent == parts:
            raise Crash()
    return crash


def saved_file_id(state_dir: Path) -> str:
    """The file id in the one resume state an interrupted upload left."""
    (saved,) = state_files(state_dir)
    return json.loads(saved.read_text())["file_id"]


def test_an_interrupted_upload_resumes_and_sends_only_the_missing_parts(
        stack: Any, api: Api, tmp_path: Path, state_dir: Path, uploaded: list[str]) -> None:
    size = 48 * MIB + 12345  # 10 parts, the last one short
    path = random_file(tmp_path, size, "take.mov")

    with pytest.raises(Crash):
        uploader(stack, state_dir, concurrency=4).upload(path, on_part_done=crash_after(3))
    file_id = saved_file_id(state_dir)
    uploaded.append(file_id)
    assert api.get(f"/files/{file_id}", role="uploader").json()["status"] == "pending"
    held = api.get(f"/files/{file_id}/parts", role="uploader").json()["parts"]
    held_bytes = sum(p["size"] for p in held)
    assert 3 <= len(held) < 10  # the crash left parts in S3, not all of them

    session, rec = recording_session(stack, 4)
    summary = uploader(stack, state_dir, concurrency=4, session=session).upload(path)
    assert summary["file_id"] == file_id and summary["resumed"] is True
    assert summary["parts_reused"] == len(held) > 0
    assert summary["bytes_sent"] == size - held_bytes
    assert summary["parts_sent"] == 10 - len(held)
    assert summary["status"] == "processing"
    assert stored_sha256(file_id) == local_sha256(path)
    assert state_files(state_dir) == []
    # The resumed run signs (with CRC32s) and sends only the missing parts, and declares the sha256.
    crcs = local_crc32s(path)
    missing = sorted(set(range(1, 11)) - {p["part_number"] for p in held})
    assert sorted(rec.puts) == missing and summary["crc32_parts_computed"] == len(missing)
    assert all(rec.puts[n][0]["x-amz-checksum-crc32"] == crcs[n] for n in missing)
    assert all(body["checksums"] == {str(n): crcs[n] for n in body["part_numbers"]}
               for body in rec.bodies("POST", "/parts"))
    assert rec.bodies("POST", "/files") == []
    assert rec.bodies("POST", "/complete")[0]["sha256"] == local_sha256(path)


def test_a_resume_hashes_again_when_the_state_has_no_sha256(stack: Any, tmp_path: Path, state_dir: Path,
                                                           uploaded: list[str]) -> None:
    path = random_file(tmp_path, 3 * PART + 77, "scene.wav")
    with pytest.raises(Crash):
        uploader(stack, state_dir, concurrency=1).upload(path, on_part_done=crash_after(1))
    (saved,) = state_files(state_dir)
    state = json.loads(saved.read_text())
    uploaded.append(state["file_id"])
    assert state["part_checksum"] == "crc32"
    state["sha256"] = None  # as if the crash came before the background hash had finished
    saved.write_text(json.dumps(state))

    summary = uploader(stack, state_dir, concurrency=2).upload(path)
    assert summary["resumed"] is True and summary["status"] == "processing"
    assert "hash" in summary["timings"]  # hashed again, alongside the missing parts
    assert summary["sha256"] == local_sha256(path) == stored_sha256(summary["file_id"])


def test_a_sha256_kept_in_the_state_is_declared_as_is_and_checked_by_the_server(
        stack: Any, tmp_path: Path, state_dir: Path, uploaded: list[str]) -> None:
    path = random_file(tmp_path, 2 * PART + 5, "line.flac")
    with pytest.raises(Crash):
        uploader(stack, state_dir, concurrency=1).upload(path, on_part_done=crash_after(1))
    (saved,) = state_files(state_dir)
    state = json.loads(saved.read_text())
    uploaded.append(state["file_id"])
    state["sha256"] = "0" * 64  # kept from "before the crash", and wrong
    saved.write_text(json.dumps(state))

    session, rec = recording_session(stack, 2)
    with pytest.raises(UploadError, match=r"rejected the stored file .*sha256 differs"):
        uploader(stack, state_dir, concurrency=2, session=session).upload(path)
    assert rec.bodies("POST", "/complete")[0]["sha256"] == "0" * 64  # not hashed again


def test_a_changed_file_is_not_resumed(stack: Any, tmp_path: Path, state_dir: Path, uploaded: list[str]) -> None:
    path = random_file(tmp_path, 11 * MIB, "notes.txt")

    with pytest.raises(Crash):
        uploader(stack, state_dir, concurrency=1).upload(path, on_part_done=crash_after(1))
    first_id = saved_file_id(state_dir)
    uploaded.append(first_id)
    with open(path, "r+b") as f:
        f.write(b"edited")
    summary = uploader(stack, state_dir).upload(path)
    uploaded.append(summary["file_id"])
    assert summary["file_id"] != first_id and summary["resumed"] is False
    assert summary["bytes_sent"] == 11 * MIB and summary["status"] == "processing"
    assert stored_sha256(summary["file_id"]) == local_sha256(path)


def test_an_upload_closed_on_the_server_starts_over(stack: Any, api: Api, tmp_path: Path, state_dir: Path,
                                                   uploaded: list[str]) -> None:
    path = random_file(tmp_path, 11 * MIB, "episode.mkv")

    with pytest.raises(Crash):
        uploader(stack, state_dir, concurrency=1).upload(path, on_part_done=crash_after(1))
    first_id = saved_file_id(state_dir)
    assert api.delete(f"/files/{first_id}/upload", role="uploader").status_code == 200
    summary = uploader(stack, state_dir).upload(path)
    uploaded.append(summary["file_id"])
    assert summary["file_id"] != first_id and summary["bytes_sent"] == 11 * MIB
    assert summary["status"] == "processing"


class FaultyS3(HTTPAdapter):
    """Answers chosen PUTs with S3's 403 for an expired URL (moto never expires URLs), or drops
    the connection; records every part signed through the API."""

    def __init__(self, api_base: str, faults: dict[int, list[str]], **kw: Any) -> None:
        super().__init__(**kw)
        self.api_base = api_base
        self.faults = faults
        self.signed: list[int] = []
        self.checksums: list[dict[str, str] | None] = []
        self.puts: list[int] = []
        self.lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
        if request.url.startswith(self.api_base) and request.method == "POST" and request.url.endswith("/parts"):
            body = json.loads(request.body)
            with self.lock:
                self.signed += body["part_numbers"]
                self.checksums.append(body.get("checksums"))
        if request.method == "PUT" and "partNumber=" in request.url:
            number = int(request.url.split("partNumber=")[1].split("&")[0])
            with self.lock:
                self.puts.append(number)
                fault = self.faults.get(number, []).pop(0) if self.faults.get(number) else None
            if fault == "expired":
                response = requests.Response()
                response.status_code, response.reason, response.url = 403, "Forbidden", request.url
                response._content = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
                                     b"<Message>Request has expired</Message></Error>")
                response.request = request
                return response
            if fault == "reset":
                raise requests.ConnectionError("Connection reset by peer")
            if fault == "503":
                response = requests.Response()
                response.status_code, response.reason, response.url = 503, "Slow Down", request.url
                response._content = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                response.request = request
                return response
        return super().send(request, **kw)


def faulty_session(stack: Any, faults: dict[int, list[str]]) -> tuple[requests.Session, FaultyS3]:
    session = make_session(4)
    adapter = FaultyS3(stack.api_url, faults, pool_maxsize=8, max_retries=0)
    session.mount("http://", adapter)
    return session, adapter


def test_an_expired_url_is_re_signed_and_the_part_retried(stack: Any, tmp_path: Path, state_dir: Path,
                                                         uploaded: list[str]) -> None:
    path = random_file(tmp_path, 16 * MIB, "script.pdf")
    session, adapter = faulty_session(stack, {2: ["expired", "expired"], 3: ["reset"], 4: ["503"]})
    summary = uploader(stack, state_dir, concurrency=4, session=session).upload(path)
    uploaded.append(summary["file_id"])

    assert summary["status"] == "processing" and summary["parts_sent"] == 4
    assert summary["kind"] == "screenplay"
    assert adapter.puts.count(2) == 3 and adapter.puts.count(3) == 2 and adapter.puts.count(4) == 2
    assert adapter.signed.count(2) == 3  # signed once, then again after each 403
    assert adapter.signed.count(1) == 1
    assert stored_sha256(summary["file_id"]) == local_sha256(path)
    # Re-signing reuses the cached CRC32s: each part was read for its checksum once.
    assert summary["crc32_parts_computed"] == 4
    crcs = local_crc32s(path)
    assert all(sent == {k: crcs[int(k)] for k in sent} for sent in adapter.checksums if sent is not None)
    assert None not in adapter.checksums


class LostResponses(HTTPAdapter):
    """Lets the first POST /files reach the server, then loses its response (a timeout on the
    way back), and answers the first signing call with a 503."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.creates: list[str] = []
        self.signing_failed = False

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
        if request.method == "POST" and request.url.endswith("/files"):
            self.creates.append(request.headers["Idempotency-Key"])
            response = super().send(request, **kw)
            if len(self.creates) == 1:
                raise requests.ConnectionError("Read timed out")
            return response
        if request.method == "POST" and request.url.endswith("/parts") and not self.signing_failed:
            self.signing_failed = True
            response = requests.Response()
            response.status_code, response._content, response.request = 503, b'{"error": {"code": "x", "message": "busy"}}', request
            return response
        return super().send(request, **kw)


def test_api_calls_are_retried_and_a_lost_create_makes_no_second_file(stack: Any, api: Api, tmp_path: Path,
                                                                       state_dir: Path, uploaded: list[str]) -> None:
    name = f"lost-{os.urandom(4).hex()}.mp4"
    path = random_file(tmp_path, 7 * MIB, name)
    session = make_session(2)
    adapter = LostResponses(pool_maxsize=4, max_retries=0)
    session.mount("http://", adapter)
    summary = uploader(stack, state_dir, concurrency=2, session=session).upload(path)
    uploaded.append(summary["file_id"])
    assert summary["status"] == "processing"
    assert len(adapter.creates) == 2 and adapter.creates[0] == adapter.creates[1]  # the same Idempotency-Key
    mine = [f for f in api.get("/files?limit=100", role="uploader").json()["results"] if f["filename"] == name]
    assert [f["id"] for f in mine] == [summary["file_id"]]


def test_a_part_that_keeps_failing_gives_up_with_a_clear_error(stack: Any, tmp_path: Path, state_dir: Path,
                                                               uploaded: list[str]) -> None:
    path = random_file(tmp_path, 6 * MIB, "a.mp4")
    session, adapter = faulty_session(stack, {2: ["expired"] * 10})
    up = uploader(stack, state_dir, concurrency=2, session=session, retry=RetryPolicy(attempts=3, base=0.01))
    with pytest.raises(UploadError, match=r"part 2 failed after 3 attempts: S3 refused the URL: 403 "
                                          r"AccessDenied: Request has expired"):
        up.upload(path)
    assert adapter.puts.count(2) == 3
    (saved,) = state_files(state_dir)  # kept: the same command resumes
    uploaded.append(json.loads(saved.read_text())["file_id"])


def test_ctrl_c_keeps_the_state_and_the_same_command_resumes(stack: Any, tmp_path: Path, state_dir: Path,
                                                             uploaded: list[str], monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = random_file(tmp_path, 21 * MIB, "talk.mp3")
    monkeypatch.setenv("KADR_API", stack.api_url)
    monkeypatch.setenv("KADR_TOKEN", stack.tokens["uploader"])
    monkeypatch.setenv("KADR_UPLOAD_STATE_DIR", str(state_dir))
    real_upload = Uploader.upload

    def interrupted(self: Uploader, *args: Any, **kw: Any) -> dict[str, Any]:
        def press_ctrl_c(done: PartDone) -> None:
            if done.parts_sent == 2:
                raise KeyboardInterrupt
        return real_upload(self, *args, **kw, on_part_done=press_ctrl_c)

    monkeypatch.setattr(Uploader, "upload", interrupted)
    assert cli.main(["upload", str(path), "--concurrency", "1", "--json"]) == 130
    err = capsys.readouterr().err
    assert "run the same command again to resume" in err
    file_id = saved_file_id(state_dir)
    uploaded.append(file_id)

    monkeypatch.setattr(Uploader, "upload", real_upload)
    assert cli.main(["upload", str(path), "--concurrency", "1", "--json"]) == 0
    out = capsys.readouterr().out  # the in-process app logs to stdout too: the summary is the last document
    summary = json.loads(out[out.rindex('{\n  "file_id"'):])
    assert summary["file_id"] == file_id and summary["resumed"] is True and summary["parts_reused"] >= 2
    assert summary["status"] == "processing"


# ---------------------------------------------------------------- the console script

def run_cli(stack: Any, state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KADR_API": stack.api_url, "KADR_TOKEN": stack.tokens["uploader"],
           "KADR_UPLOAD_STATE_DIR": str(state_dir)}
    return subprocess.run([str(KADR), "upload", *args], env=env, capture_output=True, text=True, timeout=120)


def test_the_console_script_uploads_and_prints_a_json_summary(stack: Any, tmp_path: Path, state_dir: Path,
                                                              uploaded: list[str]) -> None:
    path = random_file(tmp_path, 12 * MIB, "subs.srt")
    done = run_cli(stack, state_dir, str(path), "--json", "--concurrency", "3")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    uploaded.append(summary["file_id"])
    assert summary["status"] == "processing" and summary["kind"] == "subtitles"
    assert summary["bytes_sent"] == 12 * MIB and summary["parts_sent"] == 3 and summary["parts_reused"] == 0
    assert summary["sha256"] == local_sha256(path)
    assert {"seconds", "mib_per_s", "mib_per_s_to_complete", "mib_per_s_to_verified"} <= set(summary)
    assert summary["verified"] is True
    assert 0 < summary["seconds_to_complete"] <= summary["seconds_to_verified"] <= summary["seconds"]


def test_no_wait_exits_once_s3_has_the_file_and_the_server_verifies_it_later(
        stack: Any, api: Api, tmp_path: Path, state_dir: Path, uploaded: list[str]) -> None:
    path = random_file(tmp_path, 7 * MIB, "take2.mp4")
    done = run_cli(stack, state_dir, str(path), "--json", "--no-wait")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    uploaded.append(summary["file_id"])
    assert summary["status"] == "pending" and summary["verified"] is False
    assert summary["seconds_to_verified"] is None and summary["mib_per_s_to_verified"] is None
    assert 0 < summary["seconds_to_complete"] <= summary["seconds"] and "verify" not in summary["timings"]
    assert summary["bytes_sent"] == 7 * MIB and summary["sha256"] == local_sha256(path)
    assert state_files(state_dir) == []  # done on the client's side
    deadline = time.monotonic() + 30
    while (record := api.get(f"/files/{summary['file_id']}", role="uploader").json())["status"] == "pending":
        assert time.monotonic() < deadline, "the server never verified the file"
        time.sleep(0.1)
    assert record["status"] == "processing" and record["sha256"] == local_sha256(path)

    plain = run_cli(stack, state_dir, str(path), "--no-wait", "--no-progress")  # the one-line report
    assert plain.returncode == 0, plain.stderr
    assert "complete after" in plain.stdout and "not waiting for the server's check" in plain.stdout
    uploaded.append(plain.stdout.split(" -> ")[1].split()[0])


def test_without_a_terminal_progress_is_a_plain_line_or_two(stack: Any, tmp_path: Path, state_dir: Path,
                                                            uploaded: list[str]) -> None:
    path = random_file(tmp_path, 2 * PART + 3, "reel.mp4")
    done = run_cli(stack, state_dir, str(path))  # stdout and stderr are pipes here
    assert done.returncode == 0, done.stderr
    uploaded.append(done.stdout.split(" -> ")[1].split()[0])
    lines = done.stderr.splitlines()
    assert lines[0] == "kadr: uploading reel.mp4: 10.0 MiB in 3 part(s)"
    assert lines[1].startswith("kadr: sent 10.0 MiB in ") and lines[1].endswith(" MiB/s); completing")
    assert len(lines) == 2 and "\r" not in done.stderr  # no bar, no notes meant for a terminal
    assert done.stdout.startswith("uploaded reel.mp4 -> ") and "MiB/s" in done.stdout

    quiet = run_cli(stack, state_dir, str(path), "--no-progress")
    assert quiet.returncode == 0 and quiet.stderr == ""
    uploaded.append(quiet.stdout.split(" -> ")[1].split()[0])


def test_a_missing_file_is_a_one_line_error(stack: Any, tmp_path: Path, state_dir: Path) -> None:
    done = run_cli(stack, state_dir, str(tmp_path / "nope.mp4"))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("kadr: error: ")
    assert "nope.mp4: no such file" in done.stderr


def test_a_server_4xx_exits_non_zero_with_the_servers_message(stack: Any, tmp_path: Path, state_dir: Path) -> None:
    path = random_file(tmp_path, MIB, "clip.mp4")
    done = run_cli(stack, state_dir, str(path), "--kind", "unknown", "--json")
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kadr: error: the body is not valid [HTTP 422 validation_error]")
    assert "kind" in lines[0]

    denied = subprocess.run([str(KADR), "upload", str(path), "--no-progress"], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "KADR_API": stack.api_url,
                                             "KADR_TOKEN": stack.tokens["reader"],
                                             "KADR_UPLOAD_STATE_DIR": str(state_dir)})
    assert denied.returncode == 1 and denied.stderr.startswith("kadr: error: ") and "HTTP 403" in denied.stderr


def test_a_failed_create_leaves_neither_state_nor_lock_file(stack: Any, tmp_path: Path, state_dir: Path) -> None:
    path = random_file(tmp_path, MIB, "clip.mp4")
    with pytest.raises(UploadError, match=r"HTTP 422 validation_error"):
        uploader(stack, state_dir).upload(path, kind="unknown")
    assert list(state_dir.iterdir()) == []  # the idempotency key was saved before the create, then removed

    denied = run_cli(stack, state_dir, str(path), "--token", stack.tokens["reader"])
    assert denied.returncode == 1 and "HTTP 403" in denied.stderr
    assert list(state_dir.iterdir()) == []


def test_runs_leave_no_lock_files(stack: Any, tmp_path: Path, state_dir: Path, uploaded: list[str]) -> None:
    path = random_file(tmp_path, 2 * PART, "short.mp4")
    with pytest.raises(Crash):
        uploader(stack, state_dir, concurrency=1).upload(path, on_part_done=crash_after(1))
    assert [p.suffix for p in state_dir.iterdir()] == [".json"]  # the state to resume, no lock
    uploaded.append(saved_file_id(state_dir))
    summary = uploader(stack, state_dir).upload(path)
    assert summary["resumed"] is True and list(state_dir.iterdir()) == []


def test_an_unreachable_api_is_a_clear_error(tmp_path: Path, state_dir: Path) -> None:
    path = random_file(tmp_path, MIB, "clip.mp4")
    up = Uploader("http://127.0.0.1:9", "t", state_dir=state_dir, progress=False,
                  retry=RetryPolicy(attempts=2, base=0.01))
    with pytest.raises(UploadError, match=r"cannot reach the API at http://127.0.0.1:9: .*gave up after 2 attempts"):
        up.upload(path)


# ---------------------------------------------------------------- units (no stack)

class FakeApi:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.bodies: list[dict[str, Any]] = []

    def call(self, method: str, path: str, json: Any = None, **_: Any) -> requests.Response:
        self.batches.append(list(json["part_numbers"]))
        self.bodies.append(json)
        response = requests.Response()
        response.status_code = 200
        response.headers["Date"] = "Mon, 23 Nov 2026 06:00:00 GMT"
        response._content = __import__("json").dumps({"parts": [
            {"part_number": n, "url": f"http://s3/{n}", "expires_at": "2026-11-23T06:15:00Z", "headers": {}}
            for n in json["part_numbers"]]}).encode()
        return response


def test_signer_signs_in_batches_ahead_and_re_signs_near_expiry() -> None:
    now = [1000.0]
    api = FakeApi()
    signer = Signer(api, "f", list(range(1, 11)), batch=4, refresh_margin=60, clock=lambda: now[0])  # type: ignore[arg-type]
    assert signer.get(1).url == "http://s3/1"
    assert api.batches == [[1, 2, 3, 4]]
    signer.get(2), signer.get(4)
    assert len(api.batches) == 1  # still fresh: no call
    signer.finished(5)
    signer.get(3)
    signer.get(6)
    assert api.batches[-1] == [6, 7, 8, 9]  # finished parts are never signed again
    now[0] += 900 - 59  # expires in 15 min (server clock); within the 60 s margin now
    signer.get(2)
    assert api.batches[-1] == [2, 3, 4, 6]
    invalid = signer.get(7)
    signer.invalidate(invalid)
    assert signer.get(7).url == "http://s3/7" and api.batches[-1][0] == 7


def test_signer_sends_every_batched_parts_crc32_and_batches_only_parts_whose_crc32_is_known(
        tmp_path: Path) -> None:
    path = random_file(tmp_path, 10 * 64 * 1024, "parts.bin")  # 10 parts of 64 KiB
    crcs = local_crc32s(path, 64 * 1024)
    fd = os.open(path, os.O_RDONLY)
    try:
        checksums = PartChecksums(fd, 64 * 1024, lambda n: 64 * 1024, threading.Event())
        api = FakeApi()
        signer = Signer(api, "f", list(range(1, 11)), batch=4, checksums=checksums)  # type: ignore[arg-type]
        checksums.get(2), checksums.get(3)
        signer.get(1)  # computes 1 itself; 2 and 3 are known, 4 is not
        assert api.batches == [[1, 2, 3]] and api.bodies[-1]["checksums"] == {str(n): crcs[n] for n in (1, 2, 3)}
        signer.get(4)
        assert api.batches[-1] == [4] and api.bodies[-1]["checksums"] == {"4": crcs[4]}
        assert checksums.computed == 4
        signer.invalidate(signer.get(2))
        signer.get(2)  # re-signed with the cached CRC32: nothing read again
        assert api.batches[-1] == [2] and api.bodies[-1]["checksums"] == {"2": crcs[2]} and checksums.computed == 4
    finally:
        os.close(fd)


def test_part_crc32s_are_computed_once_however_many_threads_ask(tmp_path: Path) -> None:
    part = 256 * 1024
    path = random_file(tmp_path, 6 * part + 1000, "many.bin")
    crcs = local_crc32s(path, part)
    fd = os.open(path, os.O_RDONLY)
    try:
        def length(n: int) -> int:
            return min(part, 6 * part + 1000 - (n - 1) * part)

        checksums = PartChecksums(fd, part, length, threading.Event())
        got: list[tuple[int, str]] = []
        threads = [threading.Thread(target=lambda n=n: got.append((n, checksums.get(n))))
                   for n in list(range(1, 8)) * 6]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert checksums.computed == 7 and all(value == crcs[n] for n, value in got) and len(got) == 42
    finally:
        os.close(fd)


def test_the_crc32_prefetcher_stays_within_its_lead(tmp_path: Path) -> None:
    part = 64 * 1024
    path = random_file(tmp_path, 20 * part, "lead.bin")
    fd = os.open(path, os.O_RDONLY)
    stop = threading.Event()
    try:
        checksums = PartChecksums(fd, part, lambda n: part, stop)
        checksums.prefetch(list(range(1, 21)), lead=3)

        def settled(count: int) -> bool:
            deadline = time.monotonic() + 5
            while checksums.computed < count and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.05)
            return checksums.computed == count

        assert settled(3)  # nothing handed to a sender yet: 3 parts ahead, no more
        for _ in range(4):
            checksums.dispatched()
        assert settled(7) and sorted(checksums.values) == list(range(1, 8))
        stop.set()
        assert checksums.thread is not None
        checksums.thread.join(timeout=2)
        assert not checksums.thread.is_alive()
    finally:
        os.close(fd)


def test_crc32_of_a_range_matches_zlib_across_chunk_boundaries(tmp_path: Path) -> None:
    path = random_file(tmp_path, 3 * MIB + 5, "crc.bin")
    data = path.read_bytes()
    fd = os.open(path, os.O_RDONLY)
    try:
        for offset, length, chunk in ((0, len(data), MIB), (MIB - 3, MIB + 10, MIB), (7, 100_000, 4096),
                                      (len(data) - 1, 1, MIB)):
            assert crc32_of_range(fd, offset, length, chunk=chunk) == crc32_b64(data[offset:offset + length])
        with pytest.raises(UploadError, match="got shorter"):
            crc32_of_range(fd, len(data) - 10, 20)
    finally:
        os.close(fd)


def test_the_background_sha256_matches(tmp_path: Path) -> None:
    path = random_file(tmp_path, 17 * MIB + 3, "bg.bin")
    fd = os.open(path, os.O_RDONLY)
    try:
        hasher = BackgroundHash(fd, 17 * MIB + 3, threading.Event()).start()
        assert hasher.result() == local_sha256(path) and hasher.done() and hasher.seconds > 0
    finally:
        os.close(fd)


def test_backoff_is_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base=0.5, cap=4)
    delays = [policy.delay(k) for k in range(8) for _ in range(50)]
    assert all(0 <= d <= 4 for d in delays)
    assert max(policy.delay(0) for _ in range(200)) <= 0.5
    assert max(policy.delay(6) for _ in range(200)) > 2  # grows to the cap


def test_api_and_token_come_from_flags_env_or_local_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".kadr").mkdir()
    (tmp_path / ".kadr" / "local.json").write_text(json.dumps(
        {"api": "http://127.0.0.1:8000", "tokens": {"uploader": "up-token", "editor": "ed"}}))
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    monkeypatch.delenv("KADR_API", raising=False)
    monkeypatch.delenv("KADR_TOKEN", raising=False)
    assert resolve(None, None) == ("http://127.0.0.1:8000", "up-token")
    monkeypatch.setenv("KADR_TOKEN", "env-token")
    assert resolve(None, None) == ("http://127.0.0.1:8000", "env-token")
    assert resolve("http://x/", "flag") == ("http://x", "flag")
    monkeypatch.chdir(tmp_path.parent)
    monkeypatch.setenv("KADR_API", "")
    if not any((p / ".kadr" / "local.json").is_file() for p in (tmp_path.parent, *tmp_path.parent.parents)):
        with pytest.raises(UploadError, match="no API address"):
            resolve(None, None)


def test_an_unknown_extension_needs_kind(tmp_path: Path, state_dir: Path) -> None:
    path = random_file(tmp_path, 10, "blob.xyz")
    with pytest.raises(UploadError, match="pass --kind"):
        Uploader("http://127.0.0.1:9", "t", state_dir=state_dir, progress=False).upload(path)
