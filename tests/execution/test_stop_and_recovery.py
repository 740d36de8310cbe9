"""Emergency stop of a long statement, a worker killed mid-ALTER, and the duration monitor.

These tests share committed rows between threads / processes: transactional database."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from migrations_app import execution as runner
from migrations_app.engines.catalog import query
from migrations_app.engines.execution import MigrationLockManager
from migrations_app.execution_monitor import monitor_executions
from migrations_app.models import Execution, Incident, MigrationPlan, PlanStatus
from migrations_app.tasks import execute_plan
from tests import pg

ROOT = Path(__file__).resolve().parents[2]
LONG_ALTER = "ALTER TABLE slow ADD CONSTRAINT slow_crawl CHECK (crawl(id))"  # about 30 s


@pytest.fixture(autouse=True)
def _no_inline_queue(monkeypatch):
    """Outside a test transaction, on_commit fires at once and django-q2 (sync in tests) would run
    the task inline; here the test starts the worker itself (a thread or a killed process)."""
    monkeypatch.setattr(runner, "queue_execution", lambda task, execution_id: None)


def _worker_thread(execution_id) -> threading.Thread:
    def work():
        try:
            execute_plan(execution_id)
        finally:
            connection.close()  # a thread's own app-database connection
    thread = threading.Thread(target=work)
    thread.start()
    return thread


def _wait_for_running_statement(execution_id, deadline=30.0, child=None):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        row = Execution.objects.get(pk=execution_id)
        if row.backend_pid and any(e.get("status") == "running" and "crawl" in e["sql"] for e in row.statement_log):
            return row
        if child is not None:
            assert child.poll() is None, "the worker exited before the long ALTER started"
        time.sleep(0.1)
    raise AssertionError("the long ALTER never started")


def _constraints(target):
    with target.connection().read_only() as conn:
        return [r[0] for r in conn.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'public.slow'::regclass")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_emergency_stop_cancels_the_long_statement_and_fails_the_plan_with_an_incident(
        shop, approved_plan, dba, manager):
    plan = approved_plan(shop, LONG_ALTER)
    execution = runner.start_execution(plan, dba)
    started = time.monotonic()
    worker = _worker_thread(execution.pk)
    try:
        running = _wait_for_running_statement(execution.pk)
        outcome = runner.emergency_stop(running, manager)
    finally:
        worker.join(60)
    assert outcome["cancelled"] is True
    assert time.monotonic() - started < 20  # cancelled, not run to the end
    execution.refresh_from_db()
    plan.refresh_from_db()
    assert execution.status == Execution.Status.FAILED and plan.status == PlanStatus.FAILED
    assert execution.error.startswith("Emergency stop by manager_carol") and execution.sqlstate == "57014"
    assert execution.digest_after == execution.digest_before and _constraints(shop) == ["slow_pkey"]
    incident = Incident.objects.get(execution=execution)
    assert incident.failure_type == Incident.FailureType.EMERGENCY_STOP and incident.status == "open"


KILLED_WORKER = """
import django
django.setup()
from migrations_app.tasks import execute_plan
import sys
execute_plan(int(sys.argv[1]))
"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_alter_rolls_back_frees_the_lock_and_the_monitor_fails_the_plan(
        shop, approved_plan, dba):
    plan = approved_plan(shop, LONG_ALTER)
    execution = runner.start_execution(plan, dba)
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "dataflow_site.settings",
                 "DATABASE_URL": pg.app_database_url()}
    child = subprocess.Popen([sys.executable, "-c", KILLED_WORKER, str(execution.pk)], env=child_env, cwd=ROOT)
    try:
        running = _wait_for_running_statement(execution.pk, child=child)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert running.status == Execution.Status.RUNNING

    target = shop.connection()
    manager = MigrationLockManager(target)
    end = time.monotonic() + 20  # the server ends the orphaned sessions at its next client check
    while time.monotonic() < end:
        with target.read_only() as conn:
            backends = conn.execute(query("exec_backends_of_application"),
                                    {"application_name": running.application_name}).fetchall()
        if not backends and not manager.check_lock_status("public").is_locked:
            break
        time.sleep(0.2)
    assert not backends, "the executing session outlived its worker"
    assert manager.check_lock_status("public").is_locked is False
    assert _constraints(shop) == ["slow_pkey"]  # the ALTER's transaction rolled back

    report = monitor_executions()
    assert report["worker_lost"] == [execution.pk]
    execution.refresh_from_db()
    assert execution.status == Execution.Status.FAILED and execution.failure_type == "worker_lost"
    assert execution.digest_after == execution.digest_before
    assert MigrationPlan.objects.get(pk=plan.pk).status == PlanStatus.FAILED
    incident = Incident.objects.get(execution=execution)
    assert incident.failure_type == Incident.FailureType.WORKER_LOST and incident.status == "open"
    assert monitor_executions()["worker_lost"] == []  # once only


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_migration_over_its_duration_limit_opens_one_warning_incident_while_it_keeps_running(
        shop, approved_plan, dba, settings):
    settings.DATAFLOW_MIGRATION_DURATION_LIMIT_SECONDS = 60
    plan = approved_plan(shop, LONG_ALTER)
    execution = runner.start_execution(plan, dba)
    worker = _worker_thread(execution.pk)
    try:
        _wait_for_running_statement(execution.pk)
        Execution.objects.filter(pk=execution.pk).update(started_at=timezone.now() - dt.timedelta(minutes=2))
        first = monitor_executions()
        second = monitor_executions()
        runner.emergency_stop(Execution.objects.get(pk=execution.pk), dba)  # end the test quickly
    finally:
        worker.join(60)
    assert first["over_limit"] == [execution.pk] and first["worker_lost"] == []  # alive: lock held
    assert second["over_limit"] == []
    incident = Incident.objects.get(execution=execution, failure_type=Incident.FailureType.DURATION_EXCEEDED)
    assert incident.severity == "warning" and "over the limit of 1 min" in incident.summary
