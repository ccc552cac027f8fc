"""The bulk table (``kadr-<stage>-bulk``), one partition per task and one per task's log.

- ``TASK#<id>`` / ``META``: the task (owner, name, accounts, item count); the sparse ``by_owner``
  index (only META rows carry ``owner``) lists a caller's tasks.
- ``TASK#<id>`` / ``ITEM#<index>``: one item: its account, its declaration, the file it is uploaded
  as now (``file_id``) and the files of earlier attempts (``attempts``), and whether it was cancelled.
- ``LOG#<id>`` / ``<seq>``: one log line per item, ``seq`` gapless from 1 (``chalicelib.bulk.logs``).
- ``SRC#<id>`` / ``<file>#<sequence>#<event>``: a marker per files-stream event that wrote a line,
  so a redelivered stream record writes nothing twice.

Statuses and counts are not stored: they derive from the items' files on read (``progress``).
"""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib import db
from chalicelib.provider import settings

META = "META"


def task_pk(task_id: str) -> str:
    return f"TASK#{task_id}"


def item_sk(index: int) -> str:
    return f"ITEM#{index:05d}"


class ByOwner(GlobalSecondaryIndex["TaskRow"]):
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class TaskRow(db.KadrModel):
    class Meta(db.TableMeta):
        table_name = settings().bulk_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=META)
    task_id = UnicodeAttribute()
    owner = UnicodeAttribute()
    name = UnicodeAttribute()
    item_count = NumberAttribute()
    accounts = ListAttribute(of=UnicodeAttribute)  # sorted, distinct
    created_at = UnicodeAttribute()
    by_owner = ByOwner()


class ItemRow(db.KadrModel):
    class Meta(db.TableMeta):
        table_name = settings().bulk_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    index = NumberAttribute()
    account = UnicodeAttribute()
    filename = UnicodeAttribute()
    size = NumberAttribute()
    content_type = UnicodeAttribute()
    kind = UnicodeAttribute()
    target_audience = UnicodeAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    part_checksum = UnicodeAttribute(null=True)
    file_id = UnicodeAttribute()  # the file this item is uploaded as now
    attempts = ListAttribute(of=UnicodeAttribute, null=True)  # files of earlier attempts, oldest first
    cancelled_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
