"""Concurrent movers on moto server: one winner per move, one sequence step per winner."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.clock import iso
from chalicelib.ids import new_id
from chalicelib.provider import now
from chalicelib.status import FileStatus, transition
from chalicelib.uploads.models import FileRow


def test_racing_movers_never_produce_two_winners(stack) -> None:
    stamp = iso(now())
    rows = []
    for _ in range(5):
        row = FileRow(new_id(), owner="race", filename="a.txt", size=1, content_type="text/plain",
                      kind="screenplay", status=FileStatus.PENDING.value, sequence=1, status_at=stamp,
                      object_key="uploads/x", upload_id="u", part_size=1, part_count=1, upload_deadline=0,
                      created_at=stamp, updated_at=stamp)
        row.save()
        rows.append(row)

    def move(args: tuple[str, FileStatus]) -> bool:
        file_id, target = args
        return transition(_stale(file_id), target)

    def _stale(file_id: str) -> FileRow:
        """Every mover read the row before anyone moved it."""
        return FileRow(file_id, status=FileStatus.PENDING.value)

    # 20 movers per file, half to processing and half to error: exactly one wins per file.
    jobs = [(row.file_id, FileStatus.PROCESSING if n % 2 else FileStatus.ERROR) for row in rows for n in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(move, jobs))
    for row in rows:
        won = [target for (file_id, target), ok in zip(jobs, results) if ok and file_id == row.file_id]
        stored = FileRow.get(row.file_id, consistent_read=True)
        assert (len(won), stored.status, int(stored.sequence)) == (1, won[0], 2), (won, stored.status, stored.sequence)
