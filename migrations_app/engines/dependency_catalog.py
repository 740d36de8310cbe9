"""Catalog access shared by the dependency, foreign-key and rename analyzers.

One ``CatalogSession`` per analysis: it opens a read-only session (or uses the psycopg
connection it was given), runs named queries from ``engines/catalog``, counts round trips
(the analyzers promise a constant number), and turns any database error into the
analyzer's own exception: an analysis that failed never looks like "nothing found".
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg.rows import dict_row

from migrations_app.engines.catalog import query
from migrations_app.engines.connections import TargetConnection, TargetConnectionError


class CatalogSession:
    def __init__(self, conn: psycopg.Connection, error_class: type[Exception]):
        self.conn = conn
        self.error_class = error_class
        self.queries_run = 0

    def fetch(self, name: str, params: dict) -> list[dict]:
        self.queries_run += 1
        try:
            with self.conn.cursor(row_factory=dict_row) as cur:
                cur.execute(query(name), params)
                return cur.fetchall()
        except psycopg.Error as exc:
            detail = (exc.diag.message_primary if getattr(exc, "diag", None) else None) or str(exc)
            raise self.error_class(f"catalog query {name} failed: {detail}") from exc


@contextmanager
def catalog_session(connection, error_class: type[Exception]) -> Iterator[CatalogSession]:
    """``connection``: a ``TargetConnection`` (a read-only session is opened and closed here)
    or an open psycopg connection (used as is, left open; its transaction is not committed)."""
    if isinstance(connection, TargetConnection):
        try:
            with connection.read_only() as conn:
                yield CatalogSession(conn, error_class)
        except TargetConnectionError as exc:
            raise error_class(str(exc)) from exc
    elif isinstance(connection, psycopg.Connection):
        if connection.closed:
            raise error_class("the connection given to the analyzer is closed")
        yield CatalogSession(connection, error_class)
    else:
        raise TypeError(f"expected a TargetConnection or a psycopg connection, got {type(connection).__name__}")


def system_schema(name: str) -> bool:
    return name in ("pg_catalog", "information_schema") or name.startswith(("pg_toast", "pg_temp_"))
