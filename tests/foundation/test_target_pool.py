"""Pooled analysis sessions on targets (targets/engines/pool.py): reused, reset, refreshed,
never a secret in a log. Real PostgreSQL throughout."""

import logging
import os

import psycopg
import pytest

from migrations_app.engines.dependencies import DependencyAnalysisError, DependencyAnalyzer
from migrations_app.engines.risk import fetch_catalog_facts, open_catalog
from targets.engines import pool
from targets.engines.connections import TargetConnection
from targets.signals import announce_repointed
from tests import pg
from tests.factories import TargetDatabaseFactory

SCHEMA = """
CREATE TABLE customers (id int PRIMARY KEY, email text UNIQUE, name text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers(id), total numeric);
CREATE INDEX orders_total_idx ON orders (total);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
"""
SECRET = "Pool-secret-never-logged-7q"


@pytest.fixture(autouse=True)
def _fresh_pools(settings):
    settings.TARGET_POOL = True
    pool.close_pools()
    yield
    pool.close_pools()


def backend_pid(target: TargetConnection) -> int:
    with pool.pooled_read_only(target) as conn:
        return conn.info.backend_pid


def test_a_second_analysis_reuses_the_session_and_reports_the_same(target_db, settings):
    target = target_db(SCHEMA)
    settings.TARGET_POOL = False
    unpooled = DependencyAnalyzer(target).analyze_column_dependencies("orders", "total").to_dict()
    assert pool.idle_sessions() == {}
    settings.TARGET_POOL = True
    before = pool.stats()
    first = DependencyAnalyzer(target).analyze_column_dependencies("orders", "total").to_dict()
    second = DependencyAnalyzer(target).analyze_column_dependencies("orders", "total").to_dict()
    after = pool.stats()
    assert after["opened"] - before["opened"] == 1 and after["reused"] - before["reused"] == 1
    assert pool.idle_sessions() == {target.describe(): 1}
    for report in (first, second):
        assert report["queries_run"] == 1
        assert {k: v for k, v in report.items() if k not in ("duration_ms", "analyzed_at")} == \
            {k: v for k, v in unpooled.items() if k not in ("duration_ms", "analyzed_at")}
    # the dependency query was prepared once, with its generic plan, and is still there
    with pool.pooled_read_only(target) as conn:
        plans = conn.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                             "WHERE statement LIKE '-- A whole column%%'").fetchall()
    assert plans == [(2, 0)]


def test_nothing_a_use_changed_reaches_the_next_use(target_db):
    target = target_db(SCHEMA)
    with pool.pooled_read_only(target) as conn:
        pid = conn.info.backend_pid
        conn.read_only = False
        conn.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
        conn.prepare_threshold = None
        conn.execute("SET work_mem = '77MB'")
        conn.execute("SET statement_timeout = 7")
        conn.execute("SET default_transaction_read_only = off")
        conn.execute("SELECT set_config('application_name', 'changed', false)")
        conn.execute("SELECT pg_advisory_lock(4242)")
        conn.execute("DECLARE c CURSOR WITH HOLD FOR SELECT 1")
        conn.execute("LISTEN somewhere")
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1 / 0")  # left in a failed transaction
    with pool.pooled_read_only(target) as conn:
        assert conn.info.backend_pid == pid
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.read_only is None and conn.autocommit is False and conn.isolation_level is None
        assert conn.prepare_threshold == 0
        values = conn.execute("SELECT current_setting('work_mem'), current_setting('statement_timeout'), "
                              "current_setting('default_transaction_read_only'), current_setting('application_name'), "
                              "current_setting('plan_cache_mode'), "
                              "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()), "
                              "(SELECT count(*) FROM pg_cursors WHERE name <> ''), "
                              "(SELECT count(*) FROM pg_listening_channels())").fetchone()
        assert values == ("4MB", "30s", "on", "dataflow", "force_generic_plan", 0, 0, 0)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE written (id int)")
    # a session given back mid-statement is closed, not pooled
    with pool.pooled_read_only(target) as conn:
        dead = conn.info.backend_pid
        conn.pgconn.send_query(b"SELECT pg_sleep(0.2)")
    assert backend_pid(target) != dead


def test_a_session_ended_while_idle_is_replaced(target_db, monkeypatch):
    target = target_db(SCHEMA)
    monkeypatch.setattr(pool, "CHECK_AFTER_IDLE_S", 0.0)
    pid = backend_pid(target)
    with pg.admin_connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    report = DependencyAnalyzer(target).analyze_column_dependencies("orders", "total")
    assert [d.name for d in report.dependencies] == ["big_orders", "orders_total_idx"]
    assert backend_pid(target) != pid


def test_a_session_that_cannot_be_reset_is_closed_and_the_log_names_no_secret(target_db, caplog):
    made = target_db(SCHEMA)
    target = made.with_options(password=SECRET)  # trust auth on the test server: accepted, unused
    caplog.set_level(logging.DEBUG)
    with pool.pooled_read_only(target) as conn:
        pid = conn.info.backend_pid
        with pg.admin_connect() as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    assert pool.idle_sessions() == {}
    assert "could not be reset" in caplog.text
    DependencyAnalyzer(target).analyze_column_dependencies("orders", "total")
    assert list(pool.idle_sessions()) == [made.describe()]
    shown = caplog.text + repr(pool._pools) + repr(pool.idle_sessions()) + repr(pool.stats())
    assert SECRET not in shown


def test_the_pool_key_is_every_connection_setting(target_db):
    target = target_db(SCHEMA)
    first = backend_pid(target)
    assert backend_pid(TargetConnection.from_dsn(pg.dsn(target))) == first  # equal settings: same pool
    assert backend_pid(target.with_options(password=SECRET)) != first
    assert backend_pid(target.with_options(statement_timeout_ms=1234)) != first


def test_an_unreachable_target_fails_at_once_with_libpqs_message():
    target = TargetConnection(host="127.0.0.1", port=1, dbname="x", user="nobody", password=SECRET, connect_timeout=2)
    with pytest.raises(DependencyAnalysisError, match="cannot connect to nobody@127.0.0.1:1/x") as raised:
        DependencyAnalyzer(target).analyze_column_dependencies("orders", "total")
    assert SECRET not in str(raised.value)
    assert pool._pools[target].checked_out == 0 and pool.idle_sessions() == {}


def test_the_risk_catalog_reader_shares_the_pool(target_db):
    target = target_db(SCHEMA)
    pid = backend_pid(target)
    with open_catalog(target) as conn:
        assert conn.info.backend_pid == pid
        facts = fetch_catalog_facts(conn, [("public", "orders")])
    assert facts.table("public", "orders") is not None
    assert backend_pid(target) == pid


def test_pooling_off_opens_and_closes_a_session_per_analysis(target_db, settings):
    target = target_db(SCHEMA)
    settings.TARGET_POOL = False
    assert backend_pid(target) != backend_pid(target)
    assert pool.idle_sessions() == {}


def test_idle_sessions_are_reaped(target_db):
    target = target_db(SCHEMA)
    backend_pid(target)
    assert pool.reap() == 0 and pool.idle_sessions() == {target.describe(): 1}
    import time
    assert pool.reap(time.monotonic() + pool.MAX_IDLE_S) == 1
    assert pool.idle_sessions() == {} and pool._pools == {}


def test_a_forked_child_starts_empty_and_leaves_the_parents_sessions_alone(target_db):
    target = target_db(SCHEMA)
    pid = backend_pid(target)
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's exit status is the assertion)
        os._exit(0 if pool.idle_sessions() == {} and backend_pid(target) != pid else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert backend_pid(target) == pid  # the parent's session survived the child


@pytest.mark.django_db
def test_repointing_a_target_closes_its_sessions(target_db, dba):
    old, new = target_db(SCHEMA), target_db(SCHEMA + "CREATE TABLE only_in_new (id int);")
    target = TargetDatabaseFactory(host=old.host, port=old.port, user=old.user, dbname=old.dbname)
    if old.password:
        target.password = old.password
        target.save()
    DependencyAnalyzer(target.connection()).analyze_table_dependencies("orders")
    assert old.describe() in pool.idle_sessions()
    target.dbname = new.dbname
    target.save()
    announce_repointed(target, dba, {"dbname": {"from": old.dbname, "to": new.dbname}})
    assert pool.idle_sessions() == {}
    report = DependencyAnalyzer(target.connection()).analyze_table_dependencies("only_in_new")
    assert report.table == "only_in_new"
    assert list(pool.idle_sessions()) == [new.describe()]
