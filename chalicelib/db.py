"""Every PynamoDB model talks through the provider's one connection.

Table names are bound when the models are defined (they are per stage, fixed for a process);
the endpoint, region and session come from the provider at call time, so tests can point the
same models at in-process moto or at moto server.
"""
from __future__ import annotations

from typing import Any

from pynamodb.connection import TableConnection
from pynamodb.models import Model

from chalicelib.provider import current, settings


def dynamodb() -> Any:
    """The low-level botocore client under PynamoDB, for calls it does not model."""
    return current().connection.client


def _shared(table: TableConnection) -> TableConnection:
    """Point a model's table connection at the provider's connection (its own stays unused)."""
    shared = current().connection
    if table.connection is not shared:
        if table.table_name not in shared._tables:  # PynamoDB keeps no public lookup for this
            shared.add_meta_table(table.get_meta_table())
        table.connection = shared
    return table


class TableMeta:
    """Base of every model's ``Meta`` (subclasses add ``table_name``)."""

    region = settings().region


class KadrModel(Model):
    """Base of every table model: all of them talk through the provider's connection."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        return _shared(super()._get_connection())
