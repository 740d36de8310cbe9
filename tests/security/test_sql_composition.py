"""Names and values a user types (plan schema, table filters, masking values) reach PostgreSQL
quoted (psycopg.sql.Identifier / Literal) or bound, never spliced into SQL text: hostile ones
are taken literally and a canary table survives every step."""

from __future__ import annotations

import pytest

from baselines_app.engines.baselines import measure_performance_baselines
from baselines_app.engines.query_sets import BaselineCatalogError
from migrations_app.engines.execution import AtomicMigrationExecutor, MigrationLockManager
from migrations_app.engines.statements import MigrationOperation
from staging_app.engines.registry import InMemoryRegistry
from staging_app.engines.staging_environment_manager import StagingEnvironmentConfig, StagingEnvironmentManager
from tests.staging.conftest import drop_leftover_copies

SCHEMA = 'we"ird\'s; DROP TABLE public.canary; --'
TABLE = "pe'ople; --"
HOSTILE_VALUE = "O'Brien'); DROP TABLE public.canary; --"
SOURCE_SQL = f"""
CREATE TABLE public.canary (id integer PRIMARY KEY);
INSERT INTO public.canary VALUES (1);
CREATE SCHEMA "{SCHEMA.replace('"', '""')}";
CREATE TABLE "{SCHEMA.replace('"', '""')}"."{TABLE}" (id integer PRIMARY KEY, "na;me" text NOT NULL);
INSERT INTO "{SCHEMA.replace('"', '""')}"."{TABLE}" SELECT g, 'person ' || g FROM generate_series(1, 40) g;
ANALYZE;
"""


@pytest.fixture
def source(target_db):
    return target_db(SOURCE_SQL)


def canary_alive(conn_target) -> bool:
    with conn_target.connect() as conn:
        return conn.execute("SELECT count(*) FROM public.canary").fetchone()[0] == 1


def test_a_masking_value_and_odd_names_are_copied_literally(source):
    manager = StagingEnvironmentManager(StagingEnvironmentConfig(), registry=InMemoryRegistry())
    env = manager.create_staging_environment(source, 1.0, sample_seed=3)
    try:
        manager.replicate_production_schema(env.staging_id, tables_filter=[f"{SCHEMA}.{TABLE}"], masking_rules={
            f"{SCHEMA}.{TABLE}.na;me": {"strategy": "fixed", "value": HOSTILE_VALUE}})
        staging = source.for_database(env.database_name)
        with staging.connect() as conn:
            from psycopg import sql

            rows = conn.execute(sql.SQL("SELECT DISTINCT {} FROM {}").format(
                sql.Identifier("na;me"), sql.Identifier(SCHEMA, TABLE))).fetchall()
        assert rows == [(HOSTILE_VALUE,)]
        assert canary_alive(source)
    finally:
        drop_leftover_copies([env.staging_id])


def test_baselines_of_an_odd_schema_and_a_hostile_table_filter_run_quoted(source):
    measured = measure_performance_baselines(source, [TABLE], ("SELECT",), SCHEMA, warmup_runs=0,
                                             include_top_queries=False)
    assert measured and {b.table_name for b in measured} == {TABLE}
    assert any(b.status == "measured" for b in measured)
    with pytest.raises(BaselineCatalogError, match="no table"):  # an unknown name is an error, never SQL
        measure_performance_baselines(source, ["x'); DROP TABLE public.canary; --"], ("SELECT",), SCHEMA,
                                      warmup_runs=0, include_top_queries=False)
    assert canary_alive(source)


def test_the_plans_schema_goes_into_the_search_path_as_an_identifier(source):
    lock_manager = MigrationLockManager(source, heartbeat_seconds=0.2, owner="pytest")
    executor = AtomicMigrationExecutor(source, lock_timeout_ms=500, max_attempts=1, lock_wait_seconds=2,
                                       lock_manager=lock_manager, search_path=SCHEMA)
    operation = MigrationOperation(type="ADD_COLUMN", table_name=TABLE, schema=SCHEMA,
                                   sql=f'ALTER TABLE "{TABLE}" ADD COLUMN note text',
                                   rollback_sql=f'ALTER TABLE "{TABLE}" DROP COLUMN note')
    result = executor.execute_atomic_migration([operation])
    assert result.success, result
    with source.connect() as conn:
        columns = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "ORDER BY ordinal_position", [SCHEMA, TABLE])]
    assert columns == ["id", "na;me", "note"]
    assert canary_alive(source)
