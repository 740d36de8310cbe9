"""The only code that drops a staging database, and the checks it makes first.

A database is dropped only if all of these hold: its name is ``dataflow_stg_<staging id>``
(the prefix and the id of the registry row asking for it), it is not a protected database
(``postgres``, the templates, the production database of the environment), and its comment
is the marker written when the tool created it. A database that does not exist is reported
as already gone. Anything else raises ``CleanupRefused`` with the reason.
"""

from __future__ import annotations

from psycopg import sql

from staging_app.engines.catalog import query

STAGING_PREFIX = "dataflow_stg_"
MARKER_PREFIX = "dataflow staging environment "
PROTECTED_DATABASES = frozenset({"postgres", "template0", "template1"})


class CleanupRefused(Exception):
    """The database is not one the tool created for this environment. Safe to show."""


def marker_for(staging_id: str) -> str:
    return f"{MARKER_PREFIX}{staging_id}"


def check_drop_allowed(server, database: str, staging_id: str, *, production_database: str | None = None,
                       production_server: tuple[str, int] | None = None, allow_unmarked: bool = False) -> str:
    """Return "present" or "absent"; raise CleanupRefused unless every check passes."""
    if database in PROTECTED_DATABASES:
        raise CleanupRefused(f"refusing to drop {database!r}: it is a system database")
    same_server = production_server is None or tuple(production_server) == (server.host, server.port)
    if production_database and database == production_database and same_server:
        raise CleanupRefused(f"refusing to drop {database!r}: it is the production database of this environment")
    if not database.startswith(STAGING_PREFIX):
        raise CleanupRefused(f"refusing to drop {database!r}: its name lacks the {STAGING_PREFIX!r} prefix "
                             "of databases this tool creates")
    if database != f"{STAGING_PREFIX}{staging_id}":
        raise CleanupRefused(f"refusing to drop {database!r}: it does not belong to staging environment {staging_id!r}")
    with server.connect(autocommit=True) as conn:
        row = conn.execute(query("stg_database_marker"), {"dbname": database}).fetchone()
    if row is None:
        return "absent"
    marker = row[1]
    if marker == marker_for(staging_id) or (allow_unmarked and marker is None):
        return "present"
    raise CleanupRefused(f"refusing to drop {database!r}: it does not carry this tool's marker comment "
                         f"(found {marker!r}); the tool did not create it")


def drop_staging_database(server, database: str, staging_id: str, *, production_database: str | None = None,
                          production_server: tuple[str, int] | None = None, allow_unmarked: bool = False,
                          timeout_seconds: int = 300) -> str:
    """Drop after ``check_drop_allowed``; returns "dropped" or "absent"."""
    state = check_drop_allowed(server, database, staging_id, production_database=production_database,
                               production_server=production_server, allow_unmarked=allow_unmarked)
    if state == "absent":
        return "absent"
    with server.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(int(timeout_seconds) * 1000)))
        # FORCE: a rehearsal or an abandoned COPY may still hold a session on the copy.
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
    return "dropped"


def clone_name_for(staging_id: str, number: int) -> str:
    return f"{STAGING_PREFIX}{staging_id}_r{int(number)}"


def clone_marker_for(staging_id: str, number: int) -> str:
    return f"{marker_for(staging_id)} rehearsal clone {int(number)}"


def drop_clone_database(server, database: str, staging_id: str, number: int, *, timeout_seconds: int = 300) -> str:
    """Drop a rehearsal clone: its name must be this environment's clone ``number`` and its
    comment that clone's marker (the caller checks the registry row). "dropped" or "absent"."""
    if database != clone_name_for(staging_id, number):
        raise CleanupRefused(f"refusing to drop {database!r}: it is not clone {number} of staging environment "
                             f"{staging_id!r}")
    with server.connect(autocommit=True) as conn:
        row = conn.execute(query("stg_database_marker"), {"dbname": database}).fetchone()
        if row is None:
            return "absent"
        if row[1] != clone_marker_for(staging_id, number):
            raise CleanupRefused(f"refusing to drop {database!r}: it does not carry this tool's clone marker "
                                 f"(found {row[1]!r})")
        conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(int(timeout_seconds) * 1000)))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
    return "dropped"


def marked_databases(server) -> list[dict]:
    """Databases on ``server`` carrying the staging prefix and our marker."""
    with server.connect(autocommit=True) as conn:
        rows = conn.execute(query("stg_marked_databases"), {"prefix": STAGING_PREFIX}).fetchall()
    return [{"database": name, "marker": marker} for name, marker in rows
            if marker and marker.startswith(MARKER_PREFIX)]


def sessions_on(server, database: str) -> int:
    with server.connect(autocommit=True) as conn:
        return int(conn.execute(query("stg_database_sessions"), {"dbname": database}).fetchone()[0])
