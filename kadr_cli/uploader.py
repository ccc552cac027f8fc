"""One upload, in order: create the file record (or pick up an interrupted one), send the
missing parts, complete, and (unless told not to) wait until the server has verified the
stored object. This module decides what happens when; the how lives next door:

- :mod:`kadr_cli.api`: HTTP, retries, the API's errors and its files endpoints;
- :mod:`kadr_cli.fileio`: the local file and the one range reader every read goes through;
- :mod:`kadr_cli.checksums`: part CRC32s (prefetched, cached) and the background sha256;
- :mod:`kadr_cli.signing`: presigned part URLs, in batches, re-signed near expiry;
- :mod:`kadr_cli.parts`: the worker pool that PUTs the parts, with retries;
- :mod:`kadr_cli.state`: the resume state; :mod:`kadr_cli.report`: progress and the summary.

End to end: S3 checks each part's CRC32 as it arrives; the file's sha256, hashed alongside the
parts, is declared on complete and checked by the server against the stored object.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import requests

from kadr_cli.api import ApiClient, RetryPolicy, make_session
from kadr_cli.checksums import BackgroundHash, PartChecksums
from kadr_cli.errors import ServerError, UploadError, UploadGone
from kadr_cli.fileio import MiB, check_unchanged, guess_content_type, guess_kind, open_regular
from kadr_cli.parts import PartDone, PartPlan, PartSender, WireCounter, WorkerPool
from kadr_cli.report import Progress, RunStats, summary
from kadr_cli.signing import MAX_SIGN_BATCH, Signer
from kadr_cli.state import StateStore, UploadState


@dataclass(frozen=True)
class RunSettings:
    """What one ``upload()`` call uploads and how; fixed for the call (a start-over reuses it)."""

    path: Path
    real: str  # the resolved path: part of the state key
    stat: os.stat_result  # size and mtime when the call began: the resume fingerprint
    fd: int
    kind: str
    target_audience: str | None
    content_type: str
    key: str  # the state file's key
    wait: bool
    on_part_done: Callable[[PartDone], None] | None
    started: float


@dataclass
class _Run:
    """One attempt at the upload (a start-over is a new one): its numbers and helper threads."""

    stats: RunStats
    hasher: BackgroundHash | None = None
    checksums: PartChecksums | None = None

    def halt(self, stop: threading.Event) -> None:
        """Stop the sha256 and CRC32 threads before the caller closes the descriptor they read
        (they look at ``stop`` between reads)."""
        helpers = [h for h in (self.hasher.thread if self.hasher else None,
                               self.checksums.thread if self.checksums else None) if h is not None]
        if any(h.is_alive() for h in helpers):
            stop.set()
            for thread in helpers:
                thread.join(timeout=5)


@dataclass
class _Sending:
    """The parts phase's moving pieces, for the loop on the calling thread that keeps the books."""

    plan: PartPlan
    signer: Signer
    pool: WorkerPool
    wire: WireCounter
    bar: Any


class Uploader:
    """``Uploader(api, token).upload(path, kind=...)`` uploads one file and returns a summary.

    ``on_part_done(PartDone)`` is called on the calling thread after each part S3 accepted; an
    exception raised from it stops the upload like a crash would (in-flight parts finish, the
    state stays) and propagates, so a later ``upload`` of the same file resumes.
    """

    def __init__(self, api: str, token: str, *, concurrency: int = 8, state_dir: str | Path | None = None,
                 session: requests.Session | None = None, retry: RetryPolicy | None = None,
                 progress: bool | None = None, sign_batch: int | None = None, refresh_margin: float = 60.0,
                 poll_timeout: float = 120.0, poll_interval: float = 0.1, crc_lead: int | None = None,
                 timeout: tuple[float, float] = (10, 120), log: Callable[[str], None] | None = None) -> None:
        if concurrency < 1:
            raise UploadError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self.session = session or make_session(concurrency)
        self.stop = threading.Event()
        self.api = ApiClient(api, token, self.session, self.retry, stop=self.stop)
        self.store = StateStore(Path(state_dir) if state_dir else None)
        self.log = log or (lambda message: print(f"kadr: {message}", file=sys.stderr))
        self.progress = Progress(progress, self.log)
        self.sign_batch = sign_batch or max(16, 4 * concurrency)
        # how many parts the CRC32 prefetcher may run past the last part handed to a sender
        self.crc_lead = crc_lead or 2 * max(1, min(MAX_SIGN_BATCH, self.sign_batch))
        self.refresh_margin = refresh_margin
        self.poll_timeout = poll_timeout
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._adopted: set[str] = set()  # state keys of files created elsewhere (adopt)
        self._fresh: set[str] = set()  # adopted just now with the server's plan: nothing to check or reuse

    def adopt(self, path: str | Path, record: dict[str, Any], *, kind: str, target_audience: str | None = None) -> None:
        """Make ``record`` (a file with an open upload that someone else created, e.g. an item of
        a bulk task) the upload of ``path``: the next ``upload(path, kind=..., target_audience=...)``
        sends into it instead of creating a file, and resumes it like its own. An interrupted
        upload into the same file is kept (its parts are reused). If the server closes an adopted
        upload, ``upload`` fails rather than starting over as a new file."""
        path = Path(path)
        st = path.stat()
        real = str(path.resolve())
        key = self.store.key(self.api.base, real, kind, target_audience)
        self._adopted.add(key)
        saved = self.store.load(key)
        if saved is not None and saved.file_id == record["id"] and saved.same_file(st.st_size, st.st_mtime_ns):
            return
        plan = record["upload"]
        self._fresh.add(key)
        self.store.save(key, UploadState(
            api=self.api.base, path=real, size=st.st_size, mtime_ns=st.st_mtime_ns, kind=kind,
            target_audience=target_audience, idempotency_key=str(uuid.uuid4()), file_id=str(record["id"]),
            upload_id=str(plan["upload_id"]), part_size=int(plan["part_size"]), part_count=int(plan["part_count"]),
            part_checksum=plan.get("part_checksum")))

    def upload(self, path: str | Path, *, kind: str | None = None, target_audience: str | None = None,
               content_type: str | None = None, on_part_done: Callable[[PartDone], None] | None = None,
               wait: bool = True) -> dict[str, Any]:
        """Upload ``path``; with ``wait`` (the default) return once the server has verified the
        stored object (status ``processing``; ``error`` raises), else right after complete."""
        started = time.monotonic()
        self.stop.clear()
        path = Path(path)
        fd, st = open_regular(path)
        try:
            kind = kind or guess_kind(path)
            if not kind:
                raise UploadError(f"{path.name}: cannot tell the kind from the extension; pass --kind "
                                  f"(screenplay, video, audio or subtitles)")
            real = str(path.resolve())
            settings = RunSettings(path=path, real=real, stat=st, fd=fd, kind=kind, target_audience=target_audience,
                                   content_type=content_type or guess_content_type(path),
                                   key=self.store.key(self.api.base, real, kind, target_audience),
                                   wait=wait, on_part_done=on_part_done, started=started)
            self.store.lock(settings.key)
            try:
                return self._run_or_start_over(settings)
            finally:
                self.store.unlock(settings.key)
        finally:
            os.close(fd)

    # ------------------------------------------------------------ the run

    def _run_or_start_over(self, s: RunSettings) -> dict[str, Any]:
        """One run; if the server lost the upload this run resumed, forget it and run once more."""
        run = _Run(RunStats(s.started))
        try:
            return self._run(s, run)
        except UploadGone as exc:
            run.halt(self.stop)
            self.store.delete(s.key)  # nothing left to resume
            if s.key in self._adopted:
                raise UploadGone(f"{exc} (the file belongs to a bulk task: retry its failed items)") from None
            if not run.stats.resumed:
                raise UploadGone(f"{exc}; run the same command again to start over") from None
            self.log(f"{exc}; starting over")
            run = _Run(RunStats(s.started))
            return self._run(s, run)
        finally:
            run.halt(self.stop)

    def _run(self, s: RunSettings, run: _Run) -> dict[str, Any]:
        """Resume what an earlier run left (or start anew), send, complete, await the verdict."""
        self.stop.clear()
        stats = run.stats
        state = self._saved_state(s)
        if state is not None and state.file_id and s.key in self._fresh:
            self._fresh.discard(s.key)  # the plan came with the record just now: no parts held yet
        elif state is not None and state.file_id:
            verdict = self._check_resumable(s.key, state)
            if isinstance(verdict, dict):  # completed and verified before this run: nothing to do
                stats.resumed, stats.completed_at, stats.verified_at = True, s.started, s.started
                return summary(verdict, state, stats)
            stats.resumed = verdict
            if not verdict and s.key in self._adopted:
                raise UploadError(f"the upload of file {state.file_id} was closed on the server "
                                  f"(the file belongs to a bulk task: retry its failed items)")
            if not verdict:
                state = None
        if state is None:
            state = UploadState(api=self.api.base, path=s.real, size=s.stat.st_size, mtime_ns=s.stat.st_mtime_ns,
                                kind=s.kind, target_audience=s.target_audience, idempotency_key=str(uuid.uuid4()))
        if not state.file_id:
            self._create(s, state, stats)
        record = None if state.completed else self._send_and_complete(s, state, run)
        stats.completed_at = time.monotonic()
        if s.wait:
            return self._await_verdict(s, state, stats)
        self.store.delete(s.key)  # done on our side; GET /files/{id} tells the verdict
        if record is None:
            record = self.api.json("GET", f"/files/{state.file_id}")
        return summary(record, state, stats)

    def _saved_state(self, s: RunSettings) -> UploadState | None:
        """The state an earlier run left for this file, unless the file has changed since (that
        upload is then aborted and forgotten: a changed file is never resumed)."""
        state = self.store.load(s.key)
        if state is not None and not state.same_file(s.stat.st_size, s.stat.st_mtime_ns):
            self.log(f"{s.path.name} changed since the interrupted upload; starting over")
            if state.file_id and not state.completed:
                self.api.abort(state.file_id)
            self.store.delete(s.key)
            return None
        return state

    def _check_resumable(self, key: str, state: UploadState) -> bool | dict[str, Any]:
        """True: resume this upload; False: forget it and start over; a dict: it is already done."""
        try:
            record = self.api.json("GET", f"/files/{state.file_id}")
        except ServerError as exc:
            if exc.status in (403, 404):
                self.log(f"the interrupted upload {state.file_id} is gone ({exc.server_message}); starting over")
                self.store.delete(key)
                return False
            raise
        status = record.get("status")
        if status == "pending":
            plan = record.get("upload")
            if isinstance(plan, dict):
                state.part_checksum = plan.get("part_checksum")  # the server's word, not ours
            if not plan and not state.completed:
                state.completed = True  # completed before the crash, not yet verified: just wait
                self.store.save(key, state)
            self.log(f"resuming upload {state.file_id}")
            return True
        self.store.delete(key)
        if status != "error":
            return record
        if not state.completed:  # aborted, or expired by the server's sweeper: nothing to keep
            self.log(f"the interrupted upload {state.file_id} was closed ({record.get('error')}); starting over")
            return False
        raise UploadError(f"the server rejected the stored file {state.file_id}: "
                          f"{record.get('error') or 'no reason given'} (run again to start over)")

    def _create(self, s: RunSettings, state: UploadState, stats: RunStats) -> None:
        """Create the file under an Idempotency-Key that is on disk before the request, so a run
        interrupted mid-create retries with the same key and never makes a second file. A create
        that failed leaves no state behind: there is nothing to resume."""
        self.store.save(s.key, state)
        try:
            with stats.timed("create"):
                self.api.create_file(state, s.path.name, s.content_type)
        except UploadError:
            self.store.delete(s.key)
            raise
        self.store.save(s.key, state)

    def _send_and_complete(self, s: RunSettings, state: UploadState, run: _Run) -> dict[str, Any]:
        """The parts S3 lacks (the sha256 hashed alongside), then complete; the file record."""
        stats = run.stats
        plan = PartPlan(s.path, s.stat.st_size, s.fd, int(state.part_size or 0), int(state.part_count or 0))
        if not state.sha256:  # else known from an earlier run of this upload
            run.hasher = BackgroundHash(s.fd, plan.size, self.stop).start()
        reused = self.api.held_parts(str(state.file_id), plan.part_count, plan.part_length) if stats.resumed else {}
        stats.parts_reused = len(reused)
        self.progress.plain(f"uploading {s.path.name}: {plan.size / MiB:.1f} MiB in {plan.part_count} part(s)"
                            + (f", {len(reused)} already uploaded" if reused else ""))
        with stats.timed("parts"):
            etags = self._send_missing(s, state, plan, reused, run)
        check_unchanged(s.path, s.stat)
        self.progress.plain(f"sent {stats.bytes_sent / MiB:.1f} MiB in {stats.timings['parts']:.1f} s "
                            f"({stats.rate(stats.timings['parts']):.1f} MiB/s); completing")
        with stats.timed("hash_wait"):
            if run.hasher is not None and not run.hasher.done():
                self.progress.note("waiting for the file's sha256 ...")
            sha256 = self._file_sha256(s.key, state, run)
        with stats.timed("complete"):
            self.progress.note("completing the upload ...")
            record = self.api.complete(str(state.file_id), {**reused, **etags}, plan.part_count, sha256)
        state.completed = True
        self.store.save(s.key, state)
        return record

    def _send_missing(self, s: RunSettings, state: UploadState, plan: PartPlan, reused: dict[int, str],
                      run: _Run) -> dict[int, str]:
        """Send the parts S3 doesn't hold yet; their ETags."""
        missing = [n for n in range(1, plan.part_count + 1) if n not in reused]
        if not missing:
            return {}
        if state.part_checksum == "crc32":
            run.checksums = PartChecksums(plan.fd, plan.part_size, plan.part_length, self.stop)
            run.checksums.prefetch(missing, self.crc_lead)
        signer = Signer(self.api, str(state.file_id), missing, batch=self.sign_batch,
                        refresh_margin=self.refresh_margin, checksums=run.checksums)
        wire = WireCounter()
        sender = PartSender(self.session, signer, plan, retry=self.retry, timeout=self.timeout, stop=self.stop,
                            counter=wire)
        pool = WorkerPool(missing, sender.send, self.concurrency, self.stop,
                          on_taken=run.checksums.dispatched if run.checksums else None)
        bar = self.progress.bar(plan.size, plan.path.name, initial=sum(plan.part_length(n) for n in reused))
        try:
            with pool:
                etags = self._collect(s, state, run, _Sending(plan, signer, pool, wire, bar))
        finally:
            bar.close()
        run.stats.sign_calls = signer.calls
        if run.checksums is not None:
            run.stats.crc32_parts_computed = run.checksums.computed
            run.stats.timings["crc32"] = run.checksums.seconds  # summed over the threads that computed
        return etags

    def _collect(self, s: RunSettings, state: UploadState, run: _Run, sending: _Sending) -> dict[int, str]:
        """The workers' results, taken on the calling thread: ETags, the sha256 into the state
        once known, the bar, and the caller's callback (its exception stops the upload)."""
        etags: dict[int, str] = {}
        stats, plan = run.stats, sending.plan
        for done in sending.pool.results():
            self._keep_hash(s.key, state, run)
            if done is None:  # a tick without a finished part
                sending.bar.advance_to(sending.wire.value)
                continue
            n, etag = done
            etags[n] = etag
            sending.signer.finished(n)
            stats.parts_sent += 1
            stats.bytes_sent += plan.part_length(n)
            sending.bar.advance_to(sending.wire.value)
            if s.on_part_done is not None:
                s.on_part_done(PartDone(n, plan.part_length(n), stats.parts_sent, stats.bytes_sent, plan.part_count))
        return etags

    def _keep_hash(self, key: str, state: UploadState, run: _Run) -> None:
        """Once the background hash is done, write it to the state while the parts still go out,
        so a resume after this point needs not hash again."""
        hasher = run.hasher
        if hasher is not None and not state.sha256 and hasher.done() and hasher.digest:
            state.sha256 = hasher.digest
            self.store.save(key, state)

    def _file_sha256(self, key: str, state: UploadState, run: _Run) -> str:
        """The background hash's result (kept in the state), or the one an earlier run kept."""
        if run.hasher is not None:
            digest = run.hasher.result()
            run.stats.timings["hash"] = run.hasher.seconds  # in the background, alongside the parts
            if digest != state.sha256:
                state.sha256 = digest
                self.store.save(key, state)
        if not state.sha256:
            raise UploadError("internal: no sha256 for the file")
        return state.sha256

    def _await_verdict(self, s: RunSettings, state: UploadState, stats: RunStats) -> dict[str, Any]:
        """Wait for the server's check of the stored object; its ``error`` is a failure."""
        self.progress.note("waiting for the server to check the stored file's size and sha256 ...")
        record = self.api.wait_verified(str(state.file_id), self.poll_timeout, self.poll_interval)
        stats.verified_at = time.monotonic()
        stats.timings["verify"] = stats.verified_at - stats.completed_at
        self.store.delete(s.key)
        if record.get("status") == "error":
            reason = record.get("error") or "no reason given"
            raise UploadError(f"the server rejected the stored file {state.file_id}: {reason}")
        return summary(record, state, stats)
