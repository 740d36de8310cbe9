"""Throwaway databases on the test PostgreSQL server, for engine tests.

Engines are tested against real catalogs: each test database is created from a SQL file,
used, and dropped. The server is the one the app database lives on (``DATABASE_URL`` or the
embedded server).
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg
from django.conf import settings
from psycopg import sql

from targets.engines.connections import TargetConnection

THROWAWAY_PREFIX = "dftest_"


def server_connection(dbname: str = "postgres") -> TargetConnection:
    """A TargetConnection to ``dbname`` on the test server, as the app database's user."""
    db = settings.DATABASES["default"]
    return TargetConnection(
        host=db["HOST"] or "localhost",
        port=int(db["PORT"] or 5432),
        dbname=dbname,
        user=db["USER"] or "postgres",
        password=db["PASSWORD"] or "",
        sslmode=db["OPTIONS"].get("sslmode", "prefer"),
    )


def dsn(target: TargetConnection) -> str:
    """A libpq key=value connection string for ``target`` (works for TCP hosts and socket
    directories alike, unlike a hand-built URL)."""
    from psycopg.conninfo import make_conninfo

    params = dict(host=target.host, port=target.port, dbname=target.dbname, user=target.user)
    if target.password:
        params["password"] = target.password
    return make_conninfo(**params)


def app_database_url() -> str:
    """DATABASE_URL for a child process that must use the same (test) app database."""
    return dsn(server_connection(settings.DATABASES["default"]["NAME"]))


def admin_connect() -> psycopg.Connection:
    return server_connection("postgres").connect(autocommit=True)


def create_database(sql_text: str = "", *, name: str | None = None) -> TargetConnection:
    name = name or f"{THROWAWAY_PREFIX}{uuid.uuid4().hex[:12]}"
    with admin_connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    target = server_connection(name)
    if sql_text.strip():
        with target.connect(autocommit=True) as conn:
            conn.execute(sql_text)
    return target


def drop_database(name: str) -> None:
    if not name.startswith(THROWAWAY_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: not a throwaway test database")
    with admin_connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def throwaway_database(sql_text: str = "") -> Iterator[TargetConnection]:
    target = create_database(sql_text)
    try:
        yield target
    finally:
        drop_database(target.dbname)


def load_sql(path: str | Path) -> str:
    return Path(path).read_text()
