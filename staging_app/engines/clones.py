"""Rehearsal clones: the sampled copy stays pristine and each rehearsal gets its own database,
made with ``CREATE DATABASE clone TEMPLATE copy`` (a file-level copy on the server, no rows
through a client) and dropped afterwards through ``guard.drop_clone_database``.

PostgreSQL refuses a template that has other sessions ("source database ... is being accessed
by other users"): the copy is normally idle between rehearsals, so a refusal is retried for a
few seconds and then reported with the sessions that held it (pid, application name), never
worked around by terminating someone else's session.
"""

from __future__ import annotations

import time

import psycopg
from psycopg import sql

from staging_app.engines.catalog import query
from staging_app.engines.guard import clone_marker_for, clone_name_for


class CloneRefused(Exception):
    """The copy could not be cloned; the message names why and is safe to show."""


def create_clone(server, source_database: str, staging_id: str, number: int, *, attempts: int = 20,
                 wait_seconds: float = 0.5) -> tuple[str, float]:
    """Clone ``source_database`` into this staging environment's clone ``number``; returns
    (clone name, seconds the CREATE DATABASE took)."""
    clone = clone_name_for(staging_id, number)
    with server.connect(autocommit=True) as conn:
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(clone), sql.Identifier(source_database)))
                seconds = time.perf_counter() - started
                break
            except psycopg.errors.ObjectInUse:
                if attempt == attempts:
                    holders = conn.execute(query("stg_database_holders"), {"dbname": source_database}).fetchall()
                    named = ", ".join(f"pid {pid} ({app}, {state})" for pid, app, state in holders) or "a session that has left since"
                    raise CloneRefused(f"cannot clone {source_database}: PostgreSQL copies a template only while nobody "
                                       f"is connected to it, and {named} stayed connected for "
                                       f"{attempts * wait_seconds:.0f} s") from None
                time.sleep(wait_seconds)
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(clone), sql.Literal(clone_marker_for(staging_id, number))))
    return clone, seconds
