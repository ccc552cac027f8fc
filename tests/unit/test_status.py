"""The status machine, walked table-first: every allowed move once, every other move refused."""
from __future__ import annotations

import itertools

import pytest

from chalicelib.clock import SettableClock, iso
from chalicelib.ids import new_id
from chalicelib.status import FILE_MOVES, FileStatus, MoveRefused, allowed, transition
from chalicelib.uploads.models import FileRow

PAIRS = list(itertools.product(FileStatus, FileStatus))


def file_in(status: FileStatus, clock: SettableClock) -> FileRow:
    stamp = iso(clock.now())
    row = FileRow(new_id(), owner="unit", filename="a.txt", size=1, content_type="text/plain", kind="screenplay",
                  status=status.value, sequence=1, status_at=stamp, object_key="uploads/x", upload_id="u",
                  part_size=1, part_count=1, upload_deadline=0, created_at=stamp, updated_at=stamp)
    row.save()
    return row


def test_the_table_names_every_status_and_nothing_goes_backwards() -> None:
    assert set(FILE_MOVES) == set(FileStatus)
    order = [FileStatus.PENDING, FileStatus.PROCESSING, FileStatus.READY, FileStatus.DB_READY]
    for source, target in PAIRS:
        if target is FileStatus.ERROR:
            assert allowed(source, target) == (source is not FileStatus.ERROR)  # any state -> error
        elif source is FileStatus.ERROR:
            # the one way out of error: a retry of the analysis with a new refer key (refer.reissue)
            assert allowed(source, target) == (target is FileStatus.PROCESSING)
        elif source in order and target in order:
            assert allowed(source, target) == (order.index(target) == order.index(source) + 1)
        else:
            assert not allowed(source, target)


@pytest.mark.parametrize(("source", "target"), [p for p in PAIRS if allowed(*p)], ids=str)
def test_each_allowed_move_succeeds_once(aws, clock: SettableClock, source: FileStatus, target: FileStatus) -> None:
    row = file_in(source, clock)
    clock.advance(7)
    assert transition(row, target) is True
    stored = FileRow.get(row.file_id, consistent_read=True)
    assert stored.status == target and stored.sequence == 2 and stored.status_at == iso(clock.now())
    again = FileRow.get(row.file_id, consistent_read=True)
    again.status = source.value  # a duplicate event that still believes the old status
    assert transition(again, target) is False
    assert FileRow.get(row.file_id, consistent_read=True).sequence == 2


@pytest.mark.parametrize(("source", "target"), [p for p in PAIRS if not allowed(*p)], ids=str)
def test_each_other_move_is_refused(aws, clock: SettableClock, source: FileStatus, target: FileStatus) -> None:
    row = file_in(source, clock)
    if source == target:
        assert transition(row, target) is False  # a repeated move changes nothing
    else:
        with pytest.raises(MoveRefused) as refused:
            transition(row, target)
        assert refused.value.status == 409 and refused.value.details == {"from": source, "to": target}
    stored = FileRow.get(row.file_id, consistent_read=True)
    assert stored.status == source and stored.sequence == 1


def test_an_extra_condition_guards_the_move(aws, clock: SettableClock) -> None:
    row = file_in(FileStatus.PENDING, clock)
    assert transition(row, FileStatus.ERROR, condition=FileRow.completed == True) is False  # noqa: E712
    assert FileRow.get(row.file_id, consistent_read=True).status == FileStatus.PENDING


def test_pending_is_shown_as_dashes() -> None:
    assert FileStatus.PENDING.label == "--------"
    assert [s.label for s in FileStatus if s is not FileStatus.PENDING] == \
        ["processing", "ready", "db_ready", "error"]
