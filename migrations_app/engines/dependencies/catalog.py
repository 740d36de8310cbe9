"""Catalog access shared by the dependency, foreign-key and rename analyzers.

One ``CatalogSession`` per analysis: it opens a read-only session (or uses the psycopg
connection it was given), runs named queries from ``engines/catalog``, counts round trips
(the analyzers promise a constant number), and turns any database error into the
analyzer's own exception: an analysis that failed never looks like "nothing found".
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

import psycopg
from psycopg.rows import dict_row

from migrations_app.engines.catalog import query
from targets.engines.connections import TargetConnection, TargetConnectionError
from targets.engines.pool import pooled_read_only


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%|%")


@lru_cache(maxsize=None)
def positional_query(name: str) -> tuple[bytes, tuple[str, ...]]:
    """The named catalog query with its ``%(name)s`` placeholders turned into ``$1, $2, ...``
    (and ``%%`` into ``%``), once per process, and the parameter names in ``$n`` order.

    psycopg re-parses every query longer than 4 kB on every execute (it caches only short
    ones); the dependency query is ~16 kB and is run once per analysis, so we convert it
    once here and send it through a ``RawCursor``. Still bound parameters, still prepared."""
    order: list[str] = []

    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token == "%%":
            return "%"
        if token == "%":
            raise ValueError(f"catalog query {name}: a literal % must be written %%")
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    return _PLACEHOLDER.sub(replace, query(name)).encode("utf-8"), tuple(order)


class CatalogSession:
    def __init__(self, conn: psycopg.Connection, error_class: type[Exception]):
        self.conn = conn
        self.error_class = error_class
        self.queries_run = 0

    def fetch(self, name: str, params: dict) -> list[dict]:
        self.queries_run += 1
        text, order = positional_query(name)
        try:
            values = [params[key] for key in order]
        except KeyError as exc:
            raise self.error_class(f"catalog query {name} needs parameter {exc.args[0]!r}") from None
        try:
            with psycopg.RawCursor(self.conn, row_factory=dict_row) as cur:
                cur.execute(text, values)
                return cur.fetchall()
        except psycopg.Error as exc:
            detail = (exc.diag.message_primary if getattr(exc, "diag", None) else None) or str(exc)
            raise self.error_class(f"catalog query {name} failed: {detail}") from exc


@contextmanager
def catalog_session(connection, error_class: type[Exception]) -> Iterator[CatalogSession]:
    """``connection``: a ``TargetConnection`` (a read-only session from this process' pool of
    sessions on that target, rolled back and reset when it goes back: ``targets.engines.pool``)
    or an open psycopg connection (used as is, left open; its transaction is not committed)."""
    if isinstance(connection, TargetConnection):
        try:
            with pooled_read_only(connection) as conn:
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
