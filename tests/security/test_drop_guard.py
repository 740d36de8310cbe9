"""Only the staging guard drops databases, and only its own: name prefix and environment id,
the marker comment, and (through the manager) a registry row must all agree. The test helper
drops only ``dftest_`` databases."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from psycopg import sql

from staging_app.engines import guard
from tests import pg

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_DIRS = ("dataflow_site", "migrations_app", "staging_app", "baselines_app", "bin", "templates")
# a statement being built or run, not a lint rule's text: SQL("DROP DATABASE, execute("DROP DATABASE, dropdb
EXECUTED_DROP = re.compile(r"""(SQL|execute)\(\s*f?["']+\s*DROP\s+DATABASE|\bdropdb\b|^\s*DROP\s+DATABASE""",
                           re.IGNORECASE | re.MULTILINE)


def test_no_product_code_but_the_guard_builds_a_drop_database():
    found = sorted(str(path.relative_to(ROOT)) for folder in PRODUCT_DIRS for path in (ROOT / folder).rglob("*")
                   if path.suffix in (".py", ".sql", ".sh", ".html") and EXECUTED_DROP.search(path.read_text()))
    assert found == ["staging_app/engines/guard.py"]


def test_a_name_that_does_not_match_the_environment_is_refused_before_connecting():
    nowhere = pg.server_connection().with_options(port=9)  # nothing listens: the refusal needs no server
    for database, staging_id in (("dataflow_stg_aaaaaaaaaaaa", "bbbbbbbbbbbb"), ("dataflow_audit", "audit"),
                                 ("stg_aaaaaaaaaaaa", "aaaaaaaaaaaa"), ("template1", "x")):
        with pytest.raises(guard.CleanupRefused):
            guard.drop_staging_database(nowhere, database, staging_id)


def test_a_copy_carrying_another_environments_marker_is_refused_and_kept(db):
    server = pg.server_connection()
    staging_id = uuid.uuid4().hex[:12]
    database = f"{guard.STAGING_PREFIX}{staging_id}"
    with pg.admin_connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(database),
                                                                    sql.Literal(guard.marker_for("0" * 12))))
    try:
        with pytest.raises(guard.CleanupRefused, match="marker"):
            guard.drop_staging_database(server, database, staging_id)
        with pytest.raises(guard.CleanupRefused, match="marker"):
            guard.drop_staging_database(server, database, staging_id, allow_unmarked=True)
        with pg.admin_connect() as conn:
            assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
    finally:
        with pg.admin_connect() as conn:  # ours: give it its own marker and let the guard drop it
            conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(database),
                                                                        sql.Literal(guard.marker_for(staging_id))))
        assert guard.drop_staging_database(server, database, staging_id) == "dropped"


@pytest.mark.parametrize("name", ["dataflow_audit", "postgres", "dataflow_stg_0123456789ab", "test_dataflow_audit"])
def test_the_test_helper_drops_only_throwaway_databases(name):
    with pytest.raises(ValueError, match="not a throwaway"):
        pg.drop_database(name)
