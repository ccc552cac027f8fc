"""One DynamoDB connection per container, shared by every PynamoDB model and every other client.

PynamoDB gives each model class its own connection, and each connection its own botocore
session; boto3 would add another. Each session reloads botocore's endpoint and model files,
which a cold start pays for in full, so all clients come from this one connection's session.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from pynamodb.connection import Connection, TableConnection
from pynamodb.models import Model

from chalicelib.config import settings


@lru_cache(maxsize=1)
def connection() -> Connection:
    cfg = settings()
    return Connection(region=cfg.region, host=cfg.aws_endpoint, max_pool_connections=64)


def dynamodb() -> Any:
    """The low-level botocore client under PynamoDB, for calls it does not model."""
    return connection().client


def share(table: TableConnection) -> TableConnection:
    """Point a model's table connection at the shared connection (its own stays unused)."""
    shared = connection()
    if table.connection is not shared:
        if table.table_name not in shared._tables:  # PynamoDB keeps no public lookup for this
            shared.add_meta_table(table.get_meta_table())
        table.connection = shared
    return table


class TableMeta:
    """Base of every model's ``Meta``: where the tables are (subclasses add ``table_name``)."""

    region = settings().region
    host = settings().aws_endpoint


class KadrModel(Model):
    """Base of every table model: all of them talk through the one shared connection."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        return share(super()._get_connection())
