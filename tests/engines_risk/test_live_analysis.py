"""Statement facts, rollback SQL and database-aware lint rules against a real (small) database."""

import threading
import time

import psycopg
import pytest

from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.engines.risk import Thresholds, fetch_catalog_facts
from migrations_app.engines.rollback import suggest_rollback
from migrations_app.engines.statements import parse_script


def rules_of(report, index=0):
    return {f.rule: f for f in report.findings_for(index)}


def test_stable_user_function_default_does_not_rewrite_when_the_database_says_so(shop):
    sql = "ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT tick()"
    assert analyze_plan(sql).statements[0].rewrites_table            # unknown statically: assume volatile
    live = analyze_plan(sql, shop).statements[0]
    assert not live.rewrites_table and "no rewrite" in live.notes[0]


def test_volatile_builtin_default_rewrites_per_pg_proc(shop):
    stmt = analyze_plan("ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid()", shop).statements[0]
    assert stmt.rewrites_table


@pytest.mark.parametrize("change, rewrites", [
    ("code TYPE varchar(50)", False), ("code TYPE text", False), ("code TYPE varchar(10)", True),
    ("amount TYPE numeric(12, 2)", False), ("amount TYPE numeric(12, 4)", True), ("amount TYPE bigint", True),
])
def test_binary_coercible_type_changes_do_not_rewrite(shop, change, rewrites):
    stmt = analyze_plan(f"ALTER TABLE orders ALTER COLUMN {change}", shop).statements[0]
    assert stmt.rewrites_table is rewrites


def test_drop_column_rollback_recreates_exact_type_default_nullability_and_constraints(shop):
    [stmt] = parse_script("ALTER TABLE customers DROP COLUMN legacy_status")
    rollback = suggest_rollback(stmt, shop)
    assert rollback.sql == ("ALTER TABLE customers ADD COLUMN legacy_status character varying(20) "
                            "DEFAULT 'active'::character varying NOT NULL, ADD CONSTRAINT legacy_status_known "
                            "CHECK (((legacy_status)::text <> ''::text))")
    assert "values are lost" in rollback.reason


def test_rollbacks_run_and_restore_the_column(shop):
    [drop] = parse_script("ALTER TABLE orders DROP COLUMN code")
    [retype] = parse_script("ALTER TABLE sales.invoices ALTER COLUMN total TYPE bigint")
    undo_drop, undo_retype = suggest_rollback(drop, shop), suggest_rollback(retype, shop)
    assert "USING total::numeric(12,2)" in undo_retype.sql
    with shop.connect(autocommit=True) as conn:
        before = conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                              "WHERE attrelid = 'sales.invoices'::regclass AND attname = 'total'").fetchone()
        for sql in (drop.sql, undo_drop.sql, retype.sql, undo_retype.sql):
            conn.execute(sql)
        after = conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                             "WHERE attrelid = 'sales.invoices'::regclass AND attname = 'total'").fetchone()
        assert conn.execute("SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass "
                            "AND attname = 'code' AND NOT attisdropped").fetchone()[0] == 1
    assert before == after == ("numeric(12,2)",)


def test_static_rollbacks_and_plain_refusals():
    add, index, rename, drop = parse_script("ALTER TABLE t ADD COLUMN c int; CREATE INDEX t_c ON t (c); "
                                            "ALTER TABLE t RENAME COLUMN a TO b; DROP TABLE t")
    assert suggest_rollback(add).sql == "ALTER TABLE t DROP COLUMN c"
    assert suggest_rollback(index).sql == "DROP INDEX CONCURRENTLY IF EXISTS t_c"
    assert suggest_rollback(rename).sql == "ALTER TABLE t RENAME COLUMN b TO a"
    refused = suggest_rollback(drop)
    assert refused.sql is None and "backup" in refused.reason
    [retype] = parse_script("ALTER TABLE t ALTER COLUMN c TYPE text")
    assert suggest_rollback(retype).sql is None and "connect a database" in suggest_rollback(retype).reason


def test_large_table_rewrite_reports_size_and_projected_duration(shop, tiny_thresholds):
    sql = "ALTER TABLE orders ALTER COLUMN amount TYPE bigint"
    finding = rules_of(analyze_plan(sql, shop, thresholds=tiny_thresholds))["large-table-rewrite"]
    assert finding.evidence["rows"] == 200 and finding.evidence["total_bytes"] > 0
    assert "public.orders has 200 rows" in finding.message and "ACCESS EXCLUSIVE" in finding.message
    assert "large-table-rewrite" not in rules_of(analyze_plan(sql, shop))   # default thresholds: 200 rows is small


def test_foreign_key_without_index_names_the_referencing_table_until_indexed(shop):
    sql = "DELETE FROM customers WHERE id = 1"
    finding = rules_of(analyze_plan(sql, shop))["foreign-key-without-index"]
    assert "public.orders(customer_id)" in finding.message
    with shop.connect(autocommit=True) as conn:
        conn.execute("CREATE INDEX ON orders (customer_id)")
    assert "foreign-key-without-index" not in rules_of(analyze_plan(sql, shop))


def test_dropping_a_column_with_dependents_names_them(shop):
    finding = rules_of(analyze_plan("ALTER TABLE customers DROP COLUMN legacy_status", shop))["column-has-dependents"]
    assert "view public.active_customers" in finding.message and "view public.customer_status" in finding.message
    assert "column-has-dependents" not in rules_of(analyze_plan("ALTER TABLE customers DROP COLUMN unused_flag", shop))


def test_renaming_a_table_names_the_functions_whose_body_uses_it(shop):
    finding = rules_of(analyze_plan("ALTER TABLE orders RENAME TO purchases", shop))["renamed-table-referenced-by-functions"]
    assert "public.order_count" in finding.message
    quiet = analyze_plan("ALTER TABLE sales.invoices RENAME TO bills", shop, schema="sales")
    assert "renamed-table-referenced-by-functions" not in rules_of(quiet)
    assert quiet.rename_impact and quiet.rename_impact[0].to_dict()


def test_lock_queue_hazard_names_the_open_transaction(shop, tiny_thresholds):
    sql = "ALTER TABLE orders ADD COLUMN note text"
    assert "lock-queue-hazard" not in rules_of(analyze_plan(sql, shop, thresholds=tiny_thresholds))
    with shop.connect() as holder:
        holder.execute("SELECT count(*) FROM orders")   # transaction left open: holds ACCESS SHARE
        pid = holder.info.backend_pid
        report = analyze_plan(sql, shop, thresholds=tiny_thresholds)
        holder.rollback()
    finding = rules_of(report)["lock-queue-hazard"]
    assert f"pid {pid}" in finding.message and finding.evidence["pids"] == [pid]
    assert any(f.name == "lock_queue_hazard" for f in report.risk.risk_factors)


def test_truncate_cascade_names_the_tables_it_would_empty(shop):
    finding = rules_of(analyze_plan("TRUNCATE customers CASCADE", shop))["ban-truncate-cascade"]
    assert "public.orders" in finding.message


class CountingCursor(psycopg.Cursor):
    executed = 0

    def execute(self, *args, **kwargs):
        CountingCursor.executed += 1
        return super().execute(*args, **kwargs)


def test_catalog_facts_take_the_same_number_of_queries_for_one_or_many_statements(shop):
    counts = []
    for targets in ([("public", "orders")], [("public", "orders"), ("public", "customers"), ("sales", "invoices")] * 10):
        CountingCursor.executed = 0
        with psycopg.connect(**shop.conninfo_kwargs(), cursor_factory=CountingCursor) as conn:
            facts = fetch_catalog_facts(conn, targets, function_names=["now", "tick"])
        counts.append(CountingCursor.executed)
    # six catalog queries and the second write sample, whatever the number of statements
    assert counts == [7, 7] and facts.queries_run == 7
    assert facts.table("sales", "invoices").rows == 20 and facts.volatility == {"now": "s", "tick": "s"}


def test_missing_table_is_reported_as_an_error_not_as_no_dependencies(shop):
    report = analyze_plan("ALTER TABLE ghosts DROP COLUMN x", shop)
    assert report.errors and "ghosts" in report.errors[0]


def test_an_idle_table_loaded_long_ago_is_measured_at_zero_writes_not_at_its_load_rate(shop):
    with shop.connect() as conn:
        conn.execute("INSERT INTO orders (customer_id, code, amount) SELECT 1, 'bulk', g FROM generate_series(1, 5000) g")
        conn.commit()
    time.sleep(1.2)   # the loading backend publishes its counters about once a second
    with psycopg.connect(**shop.conninfo_kwargs()) as conn:
        facts = fetch_catalog_facts(conn, [("public", "orders")], thresholds=Thresholds(write_sample_seconds=0.5))
    orders = facts.table("public", "orders")
    assert orders.writes_counter >= 5200
    assert orders.writes_sampled == 0 and orders.writes_per_second == 0
    assert 0.5 <= orders.write_sample_seconds < 5
    assert "0 row writes committed in the 0.5 s" in orders.describe_write_rate()


def test_writes_during_the_sampling_interval_become_a_rate_named_with_its_interval(shop):
    stop = threading.Event()

    def write_continuously():
        with psycopg.connect(**shop.conninfo_kwargs(), autocommit=True) as writer:
            while not stop.is_set():
                writer.execute("INSERT INTO orders (customer_id, code, amount) SELECT 1, 'live', g "
                               "FROM generate_series(1, 200) g")
                time.sleep(0.01)

    writer = threading.Thread(target=write_continuously)
    writer.start()
    try:
        time.sleep(0.5)
        report = analyze_plan("ALTER TABLE orders ALTER COLUMN code TYPE text", shop,
                              thresholds=Thresholds(write_sample_seconds=3.0, high_write_rate_per_second=50.0))
    finally:
        stop.set()
        writer.join()
    factor = next(f for f in report.risk.risk_factors if f.name == "write_rate")
    assert "row writes committed in the 3." in factor.evidence
    assert "between two samples of pg_stat_user_tables" in factor.evidence
