"""AtomicMigrationExecutor against a real PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from migrations_app.engines.execution import MigrationLockManager, resolve_in_doubt_commit, schema_digest
from migrations_app.engines.rollback import RollbackPlan
from migrations_app.engines.statements import MigrationOperation

ROOT = Path(__file__).resolve().parents[2]


def op(sql, rollback_sql=None, **kwargs):
    return MigrationOperation(type=kwargs.pop("type", "SQL"), table_name=kwargs.pop("table_name", "customers"),
                              sql=sql, rollback_sql=rollback_sql, **kwargs)


def test_a_failing_third_statement_rolls_everything_back_and_leaves_the_digest_identical(shop, fast_executor):
    before = schema_digest(shop, ["public"])
    result = fast_executor(shop).execute_atomic_migration([
        op("ALTER TABLE customers ADD COLUMN email text"),
        op("UPDATE customers SET email = name || '@example.com'"),
        op("ALTER TABLE customers ADD CONSTRAINT name_long CHECK (length(name) > 2)"),
    ])
    assert not result.success and result.rollback_executed
    assert result.operations_completed == 0
    assert result.sqlstate == "23514"
    migration_log = [e for e in result.statement_log if e.phase == "migration"]
    assert [e.sqlstate for e in migration_log] == [None, None, "23514"]
    assert migration_log[1].rows == 5
    assert [e.phase for e in result.statement_log].count("backup") == 1  # the UPDATE's pre-image, by default
    assert all(e.duration_ms >= 0 and e.txid == result.attempts[0].txid for e in result.statement_log)
    assert schema_digest(shop, ["public"]).digest == before.digest == result.digest_before
    json.dumps(result.to_dict())  # storable as JSON by the app


def test_a_lock_timeout_is_retried_while_another_session_holds_the_table_then_succeeds(shop, fast_executor):
    blocker = shop.connect()
    blocker.execute("LOCK TABLE customers IN ACCESS SHARE MODE")  # a slow reader

    def let_go() -> None:
        time.sleep(0.6)
        blocker.rollback()

    releaser = threading.Thread(target=let_go)
    releaser.start()
    result = fast_executor(shop, max_attempts=8).execute_atomic_migration(
        [op("ALTER TABLE customers ADD COLUMN email text")])
    releaser.join()
    blocker.close()
    assert result.success, result.error_message
    assert len(result.attempts) >= 2
    assert all(a.outcome == "retry" and a.sqlstate == "55P03" and a.backoff_seconds > 0 for a in result.attempts[:-1])
    assert result.attempts[-1].outcome == "committed"
    assert [e.attempt for e in result.statement_log] == list(range(1, len(result.attempts) + 1))


def test_a_lock_timeout_that_exhausts_its_attempts_fails_and_names_the_sqlstate(shop, fast_executor):
    with shop.connect() as blocker:
        blocker.execute("LOCK TABLE customers IN ACCESS SHARE MODE")
        result = fast_executor(shop, max_attempts=2).execute_atomic_migration(
            [op("ALTER TABLE customers ADD COLUMN email text")])
        blocker.rollback()
    assert not result.success and result.sqlstate == "55P03"
    assert [a.outcome for a in result.attempts] == ["retry", "failed"]
    assert "lock_not_available after 2 attempt(s)" in result.error_message


def test_concurrently_statements_run_alone_outside_the_transaction(shop, fast_executor):
    result = fast_executor(shop).execute_atomic_migration([
        op("ALTER TABLE customers ADD COLUMN email text", "ALTER TABLE customers DROP COLUMN email"),
        op("CREATE INDEX CONCURRENTLY customers_email_idx ON customers (email)",
           "DROP INDEX CONCURRENTLY customers_email_idx"),
        op("ALTER TABLE customers ADD COLUMN phone text", "ALTER TABLE customers DROP COLUMN phone"),
    ])
    assert result.success, result.error_message
    assert [e.transactional for e in result.statement_log] == [True, False, True]
    assert result.statement_log[1].txid is None
    assert len(result.txids) == 2  # two transactions around the CONCURRENTLY statement
    with shop.read_only() as conn:
        valid = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'customers_email_idx'::regclass")
        assert valid.fetchone()[0] is True


def test_a_failed_create_index_concurrently_leaves_no_invalid_index_and_undoes_committed_steps(shop, fast_executor):
    before = schema_digest(shop, ["public"])
    result = fast_executor(shop).execute_atomic_migration([
        op("ALTER TABLE customers ADD COLUMN region text DEFAULT 'eu'", "ALTER TABLE customers DROP COLUMN region"),
        op("CREATE UNIQUE INDEX CONCURRENTLY customers_region_key ON customers (region)"),
    ])
    assert not result.success and result.sqlstate == "23505"
    assert result.rollback_executed and result.rollback_complete
    phases = [(e.phase, e.sql.split()[0]) for e in result.statement_log]
    assert ("cleanup", "DROP") in phases and ("compensation", "ALTER") in phases
    with shop.read_only() as conn:
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()[0] == 0
    assert schema_digest(shop, ["public"]).digest == before.digest


def test_losing_the_lock_connection_cancels_the_running_statement_and_runs_nothing_after(shop, fast_executor):
    manager = MigrationLockManager(shop, heartbeat_seconds=0.1)
    executor = fast_executor(shop, lock_manager=manager)
    timers = []

    def progress(event):
        if event["event"] == "statement_started" and event["index"] == 1:
            held = manager._held["public"]
            timers.append(threading.Timer(0.3, _terminate, args=(shop, held.backend_pid)))
            timers[0].start()

    started = time.monotonic()
    result = executor.execute_atomic_migration([
        op("CREATE TABLE audit_log (id integer)"),
        op("SELECT pg_sleep(5)"),
        op("CREATE TABLE never_created (id integer)"),
    ], progress=progress)
    timers[0].join()  # before the database is dropped under the terminating session
    assert time.monotonic() - started < 4  # the sleep was cancelled, not waited out
    assert not result.success and result.lock_lost
    assert "migration lock lost" in result.error_message
    assert [e.operation_index for e in result.statement_log] == [0, 1]
    with shop.read_only() as conn:
        assert conn.execute("SELECT to_regclass('audit_log'), to_regclass('never_created')").fetchone() == (None, None)


def _terminate(target, pid):
    with target.connect(autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def test_kill_9_of_a_worker_mid_alter_rolls_back_and_frees_the_lock(shop):
    with shop.connect(autocommit=True) as conn:
        conn.execute("CREATE FUNCTION slow_ok(integer) RETURNS boolean LANGUAGE sql "
                     "AS $$ SELECT pg_sleep(0.5) IS NOT NULL $$ IMMUTABLE")
    operations = [
        dataclasses.asdict(op("ALTER TABLE customers ADD COLUMN score integer")),
        dataclasses.asdict(op("ALTER TABLE customers ADD CONSTRAINT slow_check CHECK (slow_ok(id))")),
    ]
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.engines_exec.worker", json.dumps(dataclasses.asdict(shop)), json.dumps(operations)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    backend_pid = None
    for line in worker.stdout:
        event = json.loads(line)
        backend_pid = event.get("backend_pid", backend_pid)
        if event["event"] == "statement_started" and event["index"] == 1:
            break
    time.sleep(0.3)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    manager = MigrationLockManager(shop)
    deadline = time.monotonic() + 10
    with shop.connect(autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend_pid]).fetchone()[0]:
            assert time.monotonic() < deadline, "the killed worker's statement kept running"
            time.sleep(0.1)
        columns = conn.execute("SELECT count(*) FROM information_schema.columns "
                               "WHERE table_name = 'customers' AND column_name = 'score'").fetchone()[0]
    assert columns == 0  # the transaction rolled back
    status = manager.check_lock_status("public")
    assert not status.is_locked and status.stale and status.lock_data["owner"] == "worker"
    with manager.migration_lock("public", timeout=1):
        pass  # free to take again


def test_preserved_data_is_restored_by_the_rollback_plan(shop, fast_executor):
    executor = fast_executor(shop)
    operations = [
        op("ALTER TABLE customers DROP COLUMN legacy_status",
           "ALTER TABLE customers ADD COLUMN legacy_status varchar(20)", type="DROP_COLUMN"),
        op("DELETE FROM orders WHERE total < 6", table_name="orders", type="DELETE"),
        op("TRUNCATE billing.invoices", table_name="invoices", schema="billing", type="TRUNCATE"),
    ]
    unpreserved = executor.prepare_rollback_plan(operations, preserve_data=False)
    assert not unpreserved.fully_reversible and not unpreserved.data_reversible
    assert [i["operation_index"] for i in unpreserved.irreversible_operations] == [0, 1, 2]
    with shop.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO billing.invoices VALUES (1, 9.99)")
        rows_before = _rows(conn)
    before = schema_digest(shop, ["public", "billing"])

    result = executor.execute_atomic_migration(operations, preserve_data=True)
    assert result.success, result.error_message
    plan = RollbackPlan.from_dict(json.loads(json.dumps(result.rollback_plan.to_dict())))
    assert plan.fully_reversible and plan.digest_before == before.digest
    backups = [e.sql.split(" ")[0] for e in result.statement_log if e.phase == "backup"]
    # three copies; the DROP COLUMN's and the TRUNCATE's tables are locked before their copies
    assert backups == ["LOCK", "CREATE", "CREATE", "LOCK", "CREATE"], backups
    with shop.read_only() as conn:
        assert _rows(conn) != rows_before

    undo = executor.execute_rollback_plan(plan)
    assert undo.success and undo.verified, (undo.error_message, before.differences(schema_digest(shop, ["public", "billing"])))
    assert undo.schema_verified and undo.data_verified
    assert undo.data_verification["status"] == "verified" and len(undo.data_verification["checked"]) == 3
    with shop.read_only() as conn:
        assert _rows(conn) == rows_before
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'dataflow_backup'").fetchone()[0] == 0


def _rows(conn):
    return [conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in ("customers", "orders", "billing.invoices")]


def test_an_in_doubt_commit_is_resolved_from_the_transaction_id(shop):
    with shop.connect() as conn:
        committed = conn.execute("SELECT txid_current()").fetchone()[0]
        conn.commit()
        aborted = conn.execute("SELECT txid_current()").fetchone()[0]
        conn.rollback()
        running = conn.execute("SELECT txid_current()").fetchone()[0]
        assert resolve_in_doubt_commit(shop, committed) == "committed"
        assert resolve_in_doubt_commit(shop, aborted) == "aborted"
        assert resolve_in_doubt_commit(shop, running, wait_seconds=0.2) == "in progress"
        conn.rollback()


def test_rows_modified_counts_rows_written_not_rows_a_select_returns(shop, fast_executor):
    """The page's "Rows modified": a SELECT's count is rows returned (SELECT pg_sleep(0) is 1) and
    CREATE TABLE AS fills a new table; only INSERT / UPDATE / DELETE / MERGE / COPY change rows."""
    result = fast_executor(shop).execute_atomic_migration([
        op("SELECT pg_sleep(0)"),
        op("CREATE TABLE customers_copy AS SELECT * FROM customers"),
        op("UPDATE customers SET name = upper(name) WHERE id <= 2"),
        op("INSERT INTO customers_copy SELECT * FROM customers WHERE id = 1"),
    ])
    assert result.success, result.error_message
    rows = [e.rows for e in result.statement_log if e.phase == "migration"]
    assert rows == [None, None, 2, 1]
    assert result.rows_modified == 3


def test_the_statement_memo_keeps_no_long_statement_and_hands_out_copies():
    """Facts are memoised per process (the app, the executor and the policy check ask for the same
    statement's): each caller gets its own copy, and a long statement (a big INSERT) is parsed each
    time rather than kept in every worker's memory."""
    from migrations_app.engines.statements import operations as statements

    statements.forget_parsed_statements()
    first = statements.analyze_statement("DELETE FROM customers WHERE id = 1")
    first.destroyed.clear()
    again = statements.analyze_statement("DELETE FROM customers WHERE id = 1")
    assert again.destroys_data and again.destroyed  # not the list the first caller emptied
    big = "INSERT INTO customers (id, name) VALUES " + ", ".join(f"({i}, 'n{i}')" for i in range(2000))
    assert len(big) > statements.MEMO_MAX_CHARS
    assert statements.analyze_statement(big).kind == "INSERT"
    statements.check_sql_policy(big)
    assert statements._analyze_statement.cache_info().currsize == 1
    assert statements._check_sql_policy.cache_info().currsize == 0
