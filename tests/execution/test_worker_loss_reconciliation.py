"""Fault matrix: the execute task runs in a real child process; at each phase the test either
kills it (SIGKILL) or terminates its app-database session (pg_terminate_backend), then checks
that the outcome the app records equals what the target's own catalog and rows show.

The plan, four segments:
  0  UPDATE counter SET n = n + 1                          transactional (COMMIT runs a 1.5 s
                                                           deferred trigger: a window inside COMMIT)
  1  CREATE INDEX CONCURRENTLY counter_n_idx ON counter    autocommit
  2  CREATE INDEX CONCURRENTLY tally_n_idx ON tally        autocommit
  3  ALTER TABLE slow ADD CONSTRAINT slow_crawl CHECK ...  transactional, about 3 s
Phases are held open with real locks taken by the test (the migration lock, table locks).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.utils import timezone

from migrations_app import execution as runner
from migrations_app.engines.execution import MigrationLockManager
from migrations_app.execution_monitor import monitor_executions
from migrations_app.models import Execution, MigrationPlan, PlanStatus
from migrations_app.workflow import WorkflowError, reopen
from tests import pg
from tests.factories import TargetDatabaseFactory

ROOT = Path(__file__).resolve().parents[2]

COUNTER_SQL = """
CREATE TABLE counter (id integer PRIMARY KEY, n integer NOT NULL);
INSERT INTO counter VALUES (1, 0);
CREATE TABLE tally (id integer PRIMARY KEY, n integer NOT NULL);
CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN PERFORM pg_sleep(1.5); RETURN NULL; END$$;
CREATE CONSTRAINT TRIGGER counter_slow_commit AFTER UPDATE ON counter DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION slow_commit();
CREATE FUNCTION crawl(integer) RETURNS boolean LANGUAGE plpgsql AS $$BEGIN PERFORM pg_sleep(0.3); RETURN true; END$$;
CREATE TABLE slow (id integer PRIMARY KEY);
INSERT INTO slow SELECT generate_series(1, 10);
"""
PLAN_SQL = """UPDATE counter SET n = n + 1;
CREATE INDEX CONCURRENTLY counter_n_idx ON counter (n);
CREATE INDEX CONCURRENTLY tally_n_idx ON tally (n);
ALTER TABLE slow ADD CONSTRAINT slow_crawl CHECK (crawl(id));"""

WORKER = """
import os, sys
import django
django.setup()
from django.db import connection
connection.settings_dict.setdefault("OPTIONS", {})["application_name"] = os.environ["WORKER_APP_NAME"]
from migrations_app.tasks import execute_plan
execute_plan(int(sys.argv[1]))
"""

# phase -> (what the test holds to keep the worker there, the target-side sign that it is there)
PHASES = {
    "before segment 0 (waiting for the migration lock)": ("migration_lock", None),
    "inside transactional segment 0": ("LOCK TABLE counter IN SHARE MODE",
                                       "wait_event_type = 'Lock' AND strpos(query, 'UPDATE counter') = 1"),
    "during COMMIT of segment 0": (None, "state = 'active' AND query = 'COMMIT'"),
    "after transactional segment 0": ("LOCK TABLE counter IN SHARE UPDATE EXCLUSIVE MODE",
                                      "wait_event_type = 'Lock' AND strpos(query, 'counter_n_idx') > 0"),
    "between autocommit segments 1 and 2": ("LOCK TABLE tally IN SHARE UPDATE EXCLUSIVE MODE",
                                            "wait_event_type = 'Lock' AND strpos(query, 'tally_n_idx') > 0"),
    "inside transactional segment 3": (None, "state = 'active' AND strpos(query, 'crawl') > 0"),
}


@pytest.fixture(autouse=True)
def _no_inline_queue(monkeypatch):
    monkeypatch.setattr(runner, "queue_execution", lambda task, execution_id: None)


@pytest.fixture
def counter_target(target_db, db):
    conn = target_db(COUNTER_SQL)
    target = TargetDatabaseFactory(name="counter", host=conn.host, port=conn.port, dbname=conn.dbname, user=conn.user)
    if conn.password:
        target.password = conn.password
        target.save()
    return target


def applied_on_target(target) -> list[int]:
    """Which operations the target shows applied, read from its rows and catalog only."""
    with target.connection().read_only() as conn:
        n = conn.execute("SELECT n FROM counter WHERE id = 1").fetchone()[0]
        valid = {r[0]: r[1] for r in conn.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname IN ('counter_n_idx', 'tally_n_idx')")}
        constraint = conn.execute("SELECT count(*) FROM pg_constraint WHERE conname = 'slow_crawl'").fetchone()[0]
    assert n in (0, 1), f"UPDATE counter SET n = n + 1 was applied {n} times"
    return [i for i, applied in enumerate([n == 1, valid.get("counter_n_idx") is True,
                                           valid.get("tally_n_idx") is True, constraint == 1]) if applied]


def expected_status(applied: list[int]) -> str:
    if len(applied) == 4:
        return Execution.Status.SUCCEEDED
    return Execution.Status.PARTIALLY_APPLIED if applied else Execution.Status.FAILED


def _start_worker(execution) -> tuple[subprocess.Popen, str]:
    app_name = f"dftest-worker-{execution.pk}-{os.getpid()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "dataflow_site.settings",
           "DATABASE_URL": pg.app_database_url(), "WORKER_APP_NAME": app_name,
           "DATAFLOW_EXEC_LOCK_TIMEOUT_MS": "60000", "DATAFLOW_EXEC_LOCK_WAIT_SECONDS": "60",
           "DATAFLOW_EXEC_MAX_ATTEMPTS": "1", "DATAFLOW_Q_SYNC": "true"}
    return subprocess.Popen([sys.executable, "-c", WORKER, str(execution.pk)], env=env, cwd=ROOT), app_name


def _wait(condition, what: str, child: subprocess.Popen | None = None, seconds: float = 30.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        if child is not None and child.poll() is not None:
            raise AssertionError(f"the worker exited (rc {child.returncode}) before {what}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _executing_session_matches(target, execution_pk: int, where: str) -> bool:
    with target.connection().read_only() as conn:
        return bool(conn.execute(f"SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND {where}",
                                 [f"dataflow-exec-{execution_pk}"]).fetchone()[0])


def _terminate_app_session(app_name: str) -> int:
    with pg.admin_connect() as conn:
        return conn.execute("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = %s) t", [app_name]).fetchone()[0]


def _hold(target, how: str | None):
    """Open the blocker for a phase; returns a closer."""
    if how is None:
        return lambda: None
    if how == "migration_lock":
        manager = MigrationLockManager(target.connection(), owner="test blocker")
        manager.acquire_migration_lock("public", timeout=5)
        return lambda: manager.release_migration_lock("public")
    conn = target.connection().connect(autocommit=False)
    conn.execute(how)
    return conn.close


def _recorded_after_loss(execution) -> Execution:
    """The monitor's view once the worker is gone (it waits for the target's sessions to end)."""
    def settled():
        monitor_executions(now=timezone.now() + timezone.timedelta(hours=1))
        row = Execution.objects.get(pk=execution.pk)
        return row if row.status != Execution.Status.RUNNING else None
    return _wait(settled, "the monitor to record the outcome", seconds=40)


def run_fault(plan, dba, target, phase: str, fault: str, release_at_once: bool = False
              ) -> tuple[Execution, list[int]]:
    execution = runner.start_execution(plan, dba)
    how, sign = PHASES[phase]
    release = _hold(target, how)
    child, app_name = _start_worker(execution)
    try:
        if sign is None:  # the worker claimed the row and is polling for the lock the test holds
            _wait(lambda: Execution.objects.get(pk=execution.pk).status == Execution.Status.RUNNING, phase, child)
            time.sleep(0.5)
        else:
            _wait(lambda: _executing_session_matches(target, execution.pk, sign), phase, child)
        if fault == "kill -9":
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            if not release_at_once:  # the server ends the orphaned session before the blocker goes
                _wait(lambda: not _executing_session_matches(target, execution.pk, "true"),
                      "the orphaned executing session to end", seconds=20)
        else:
            assert _terminate_app_session(app_name) >= 1
    finally:
        release()
    if fault != "kill -9":
        assert child.wait(60) is not None
    recorded = _recorded_after_loss(execution)
    return recorded, applied_on_target(target)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("fault", ["kill -9", "app-db session terminated"])
@pytest.mark.parametrize("phase", list(PHASES))
def test_after_a_lost_worker_or_app_session_the_recorded_outcome_is_the_targets(
        counter_target, approved_plan, dba, phase, fault):
    plan = approved_plan(counter_target, PLAN_SQL)
    recorded, applied = run_fault(plan, dba, counter_target, phase, fault)
    if os.environ.get("DATAFLOW_FAULT_MATRIX_FILE"):  # the fault matrix for the report
        with open(os.environ["DATAFLOW_FAULT_MATRIX_FILE"], "a") as out:
            out.write(f"{phase} | {fault} | recorded {recorded.status} {recorded.committed_operations} | "
                      f"target {expected_status(applied)} {applied}\n")
    assert recorded.committed_operations == applied
    assert recorded.status == expected_status(applied)
    plan.refresh_from_db()
    assert plan.status == {Execution.Status.SUCCEEDED: PlanStatus.SUCCEEDED,
                           Execution.Status.PARTIALLY_APPLIED: PlanStatus.PARTIALLY_APPLIED,
                           Execution.Status.FAILED: PlanStatus.FAILED}[recorded.status]
    if recorded.status != Execution.Status.FAILED:
        assert "rolled back" not in recorded.get_status_display().lower() and not recorded.rollback_executed
    if recorded.status == Execution.Status.PARTIALLY_APPLIED:
        assert recorded.reconciliation["final"] is True
        assert "committed" in recorded.error and "journal" in recorded.error
    if fault == "kill -9" and phase == "inside transactional segment 3":
        assert applied == [0, 1, 2]  # the phases really are where the test says
    if fault == "kill -9" and phase == "after transactional segment 0":
        assert applied == [0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_partially_applied_plan_is_resumed_never_re_run_so_the_counter_is_incremented_once(
        counter_target, approved_plan, dba, django_capture_on_commit_callbacks):
    plan = approved_plan(counter_target, PLAN_SQL)
    recorded, applied = run_fault(plan, dba, counter_target, "between autocommit segments 1 and 2", "kill -9")
    assert recorded.status == Execution.Status.PARTIALLY_APPLIED and applied == [0, 1]
    plan.refresh_from_db()
    with pytest.raises(WorkflowError):
        reopen(plan, dba)               # back to draft and executed again: refused
    with pytest.raises(WorkflowError):
        runner.start_execution(plan, dba)  # executed again from the start: refused

    from migrations_app.execution_recovery import request_resume
    resume = request_resume(recorded, dba)
    assert resume.start_operation == 2
    from migrations_app.tasks import execute_plan
    execute_plan(resume.pk)
    resume.refresh_from_db()
    assert resume.status == Execution.Status.SUCCEEDED, resume.error
    assert applied_on_target(counter_target) == [0, 1, 2, 3]  # the counter is 1: applied once
    assert MigrationPlan.objects.get(pk=plan.pk).status == PlanStatus.SUCCEEDED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_autocommit_statement_that_finished_after_its_worker_died_is_reported_committed_from_the_catalog(
        counter_target, approved_plan, dba):
    """Killed while CREATE INDEX CONCURRENTLY waited on a lock; the lock goes at once, so the
    orphaned statement completes before the server notices: 'intent' and no 'done' in the
    journal, and the catalog shows a valid index."""
    plan = approved_plan(counter_target, PLAN_SQL)
    recorded, applied = run_fault(plan, dba, counter_target, "after transactional segment 0", "kill -9",
                                  release_at_once=True)
    assert recorded.committed_operations == applied and recorded.status == expected_status(applied)
    if applied == [0, 1]:  # the usual race; [0] if the server noticed the dead client first
        evidence = [s["evidence"] for s in recorded.reconciliation["segments"] if s["operation_indices"] == [1]]
        assert "exists and is valid" in evidence[0]
