"""The staging engine against real PostgreSQL: sampling, FK closure, masking, objects, guards."""

from __future__ import annotations

import pytest
from psycopg import sql

from staging_app.engines import guard
from staging_app.engines.masking import MaskingRuleError, parse_masking_rules
from staging_app.engines.registry import CLEANED, ERROR, READY, StagingLimitExceeded
from staging_app.engines.staging_environment_manager import (ProductionDatabase, StagingEnvironmentConfig,
                                                            StagingEnvironmentError)
from tests import pg

MASKS = {"shop.customers.email": "fake_email",
         "customers.full_name": {"strategy": "fixed", "value": "Jane Doe"},
         "shop.employees.name": "hash"}


def _copy(manager, source_db, **kwargs):
    env = manager.create_staging_environment(source_db, kwargs.pop("data_sample_size", 0.1), sample_seed=kwargs.pop("seed", 7))
    result = manager.replicate_production_schema(env.staging_id, **kwargs)
    return env, result, source_db.for_database(env.database_name)


def _exists(database: str) -> bool:
    with pg.admin_connect() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone() is not None


def _count(conn, table: str) -> int:
    schema, name = table.split(".")
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))).fetchone()[0]


def test_ten_percent_sample_keeps_every_foreign_key_valid(make_manager, source_db):
    manager = make_manager()
    env, result, staging = _copy(manager, source_db)

    assert manager.registry.get(env.staging_id).status == READY
    # Foreign keys are created by the post-data section after the load: they exist only if
    # every sampled reference found its parent row.
    assert result.foreign_keys_replicated == 10  # 4 declared, cloned onto partitions
    assert result.warnings == []
    with staging.connect() as conn:
        dangling = conn.execute(
            "SELECT (SELECT count(*) FROM shop.customers c WHERE c.referred_by IS NOT NULL AND NOT EXISTS "
            "        (SELECT 1 FROM shop.customers p WHERE p.id = c.referred_by)) + "
            "       (SELECT count(*) FROM shop.departments d WHERE NOT EXISTS "
            "        (SELECT 1 FROM shop.employees e WHERE e.id = d.manager_id)) + "
            "       (SELECT count(*) FROM shop.employees e WHERE NOT EXISTS "
            "        (SELECT 1 FROM shop.departments d WHERE d.id = e.department_id))").fetchone()[0]
        assert dangling == 0
        # A table nothing references is a plain 10% Bernoulli sample: 4000 rows, 400 expected.
        assert 320 <= _count(conn, "shop.order_items") <= 480
        assert result.rows_sampled["shop.order_items"] == _count(conn, "shop.order_items")
        assert sum(result.rows_sampled.values()) == result.total_rows_sampled
    assert result.parent_rows_added["shop.orders"] > 0
    assert result.closure_passes >= 2
    assert result.bytes_copied > 0


def test_same_seed_samples_the_same_rows(make_manager, source_db):
    manager = make_manager()
    _, first, a = _copy(manager, source_db, seed=99)
    _, second, b = _copy(manager, source_db, seed=99)
    assert first.rows_sampled == second.rows_sampled
    with a.connect() as ca, b.connect() as cb:
        query = "SELECT array_agg(order_id ORDER BY order_id, sku) FROM shop.order_items"
        assert ca.execute(query).fetchone() == cb.execute(query).fetchone()


def test_copy_has_views_materialized_views_triggers_functions_policies_and_sequences(make_manager, source_db):
    manager = make_manager()
    _, result, staging = _copy(manager, source_db)
    assert (result.views_replicated, result.materialized_views_replicated, result.functions_replicated,
            result.policies_replicated) == (1, 1, 1, 1)
    assert result.tables_replicated == 8  # 5 tables + partitioned orders and its 2 partitions
    with staging.connect() as conn:
        assert conn.execute("SELECT count(*) FROM shop.daily_totals").fetchone()[0] > 0  # refreshed after load
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'orders_default_total'").fetchone()[0] >= 1
        assert conn.execute("SELECT relrowsecurity FROM pg_class WHERE oid = 'shop.customers'::regclass").fetchone()[0]
        # Sequences continue where production's are, so rehearsed inserts do not collide.
        assert conn.execute("SELECT last_value FROM shop.orders_id_seq").fetchone()[0] == 3000
        assert conn.execute("SELECT last_value FROM shop.customers_id_seq").fetchone()[0] == 2000
        conn.execute("INSERT INTO shop.orders (customer_id, placed_on) "
                     "SELECT min(id), date '2024-05-01' FROM shop.customers")
        assert conn.execute("SELECT total FROM shop.orders WHERE id = 3001").fetchone()[0] == 0  # trigger fired


def test_masks_are_applied_while_copying_and_generated_columns_are_recomputed(make_manager, source_db):
    manager = make_manager()
    _, result, staging = _copy(manager, source_db, masking_rules=MASKS)
    with staging.connect() as conn:
        emails = [r[0] for r in conn.execute("SELECT email FROM shop.customers").fetchall()]
        assert emails and all(e.startswith("user_") and e.endswith("@example.invalid") for e in emails)
        assert len(set(emails)) == len(emails)  # the unique constraint on email still holds
        assert conn.execute("SELECT DISTINCT full_name, name_upper FROM shop.customers").fetchall() == [("Jane Doe", "JANE DOE")]
        names = [r[0] for r in conn.execute("SELECT name FROM shop.employees").fetchall()]
        assert names and not any(n.startswith("Employee") for n in names)
    assert result.masked_columns == {"shop.customers": ["email", "full_name"], "shop.employees": ["name"]}


def test_masking_a_foreign_key_column_is_refused_and_leaves_no_database(make_manager, source_db):
    manager = make_manager()
    env = manager.create_staging_environment(source_db, 0.1)
    with pytest.raises(StagingEnvironmentError, match="part of a foreign key"):
        manager.replicate_production_schema(env.staging_id, masking_rules={"shop.orders.customer_id": "null"})
    assert manager.registry.get(env.staging_id).status == ERROR
    assert not _exists(env.database_name)


def test_masking_a_not_null_column_with_null_is_refused_before_any_row_is_copied(make_manager, source_db):
    manager = make_manager()
    env = manager.create_staging_environment(source_db, 0.1)
    with pytest.raises(StagingEnvironmentError, match="NOT NULL"):
        manager.replicate_production_schema(env.staging_id, masking_rules={"shop.customers.full_name": "null"})
    assert manager.registry.get(env.staging_id).status == ERROR
    assert not _exists(env.database_name)


def test_masking_rules_name_real_text_columns():
    with pytest.raises(MaskingRuleError, match="unknown masking strategy"):
        parse_masking_rules({"shop.customers.email": "scramble"})
    with pytest.raises(MaskingRuleError, match="table.column"):
        parse_masking_rules({"email": "null"})


def test_tables_filter_samples_only_named_tables_and_brings_their_parents(make_manager, source_db):
    manager = make_manager()
    _, result, staging = _copy(manager, source_db, tables_filter=["shop.order_items"])
    with staging.connect() as conn:
        assert _count(conn, "shop.employees") == 0 and _count(conn, "shop.departments") == 0
        referenced = conn.execute("SELECT count(DISTINCT (order_id, placed_on)) FROM shop.order_items").fetchone()[0]
        assert _count(conn, "shop.orders") == referenced
        assert _count(conn, "shop.products") == conn.execute(
            "SELECT count(DISTINCT sku) FROM shop.order_items").fetchone()[0]
        assert _count(conn, "shop.customers") >= conn.execute(
            "SELECT count(DISTINCT customer_id) FROM shop.orders").fetchone()[0]


def test_failure_half_way_marks_error_and_drops_the_copy(make_manager, source_db):
    manager = make_manager()
    env = manager.create_staging_environment(source_db, 0.1)

    def disk_full(state):
        if state["phase"] == "copying" and state["tables_done"] >= 2:
            raise OSError("No space left on device")

    with pytest.raises(StagingEnvironmentError, match="No space left"):
        manager.replicate_production_schema(env.staging_id, progress=disk_full)
    row = manager.registry.get(env.staging_id)
    assert row.status == ERROR and "No space left" in row.error
    assert not _exists(env.database_name)


def test_cleanup_drops_the_copy_and_marks_it_cleaned(make_manager, source_db):
    manager = make_manager()
    env = manager.create_staging_environment(ProductionDatabase.from_target_connection(source_db), 0.5)
    assert env.database_name == f"dataflow_stg_{env.staging_id}" and len(env.database_name.encode()) < 63
    with pg.admin_connect() as conn:
        assert conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                            [env.database_name]).fetchone()[0] == guard.marker_for(env.staging_id)
    outcome = manager.cleanup_staging_environment(env.staging_id)
    assert outcome["cleanup_status"] == "SUCCESS"
    assert manager.registry.get(env.staging_id).status == CLEANED
    assert env.staging_id not in manager.active_environments


def test_cleanup_refuses_postgres_the_target_and_databases_the_tool_did_not_create(make_manager, source_db):
    server = pg.server_connection()
    for name in ("postgres", source_db.dbname):
        with pytest.raises(guard.CleanupRefused):
            guard.drop_staging_database(server, name, "0123456789ab", production_database=source_db.dbname)
    # Right prefix, but made by hand: no marker.
    stranger = pg.create_database()  # a throwaway, renamed below
    impostor = "dataflow_stg_feedfacecafe"
    with pg.admin_connect() as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(stranger.dbname), sql.Identifier(impostor)))
    try:
        with pytest.raises(guard.CleanupRefused, match="marker"):
            guard.drop_staging_database(server, impostor, "feedfacecafe")
        manager = make_manager()
        assert manager.cleanup_staging_environment("feedfacecafe")["cleanup_status"] == "REFUSED"
        # A registry row tampered to point at the production database is refused too.
        env = manager.create_staging_environment(source_db, 0.1)
        manager.registry._items[env.staging_id].staging_db = env.staging_db.__class__(
            env.staging_db.host, env.staging_db.port, source_db.dbname, env.staging_db.user)
        outcome = manager.cleanup_staging_environment(env.staging_id)
        assert outcome["cleanup_status"] == "REFUSED" and "production database" in outcome["message"]
        assert _exists(source_db.dbname)
    finally:
        with pg.admin_connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(impostor)))


def test_the_limit_refuses_one_environment_too_many(make_manager, source_db):
    manager = make_manager(max_staging_environments=1)
    manager.create_staging_environment(source_db, 0.1)
    with pytest.raises(StagingLimitExceeded, match="Maximum staging environments exceeded"):
        manager.create_staging_environment(source_db, 0.1)


def test_presets_follow_the_runbook():
    production, development = StagingEnvironmentConfig.production(), StagingEnvironmentConfig.development()
    assert (production.default_data_sample_size, production.max_staging_environments, production.auto_cleanup_hours,
            production.performance_degradation_threshold, production.min_baseline_queries) == (0.05, 3, 12, 1.5, 10)
    assert (development.default_data_sample_size, development.max_staging_environments,
            development.performance_baselines_enabled, development.auto_cleanup_hours) == (0.5, 10, False, 48)
    with pytest.raises(ValueError):
        StagingEnvironmentConfig(default_data_sample_size=0)
