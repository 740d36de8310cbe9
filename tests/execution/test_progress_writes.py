"""The worker's progress writes to the app database are bounded, and a long statement still shows
as running: the recorder writes a statement's start at most every MIN_INTERVAL_SECONDS, and a
background flusher (its own session) writes what is pending while the worker waits on the target.

Counted by PostgreSQL itself: a trigger on the app database's execution table counts the row's
UPDATEs while a real worker thread runs a real plan."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from migrations_app import execution as runner
from migrations_app.execution_progress import ProgressRecorder
from migrations_app.models import Execution
from migrations_app.tasks import execute_plan

QUICK = 80
LONG_ALTER = "ALTER TABLE slow ADD CONSTRAINT slow_crawl CHECK (crawl(id))"  # seconds (tests/shop.py "slow")


@pytest.fixture(autouse=True)
def _no_inline_queue(monkeypatch):
    monkeypatch.setattr(runner, "queue_execution", lambda task, execution_id: None)


@pytest.fixture
def update_counter(db):
    table = Execution._meta.db_table
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE pytest_execution_updates (execution_id bigint, at timestamptz DEFAULT clock_timestamp())")
        cur.execute("CREATE FUNCTION pytest_count_update() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$BEGIN INSERT INTO pytest_execution_updates (execution_id) VALUES (NEW.id); RETURN NEW; END$$")
        cur.execute(f"CREATE TRIGGER pytest_count_update AFTER UPDATE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION pytest_count_update()")
    yield lambda execution_id: _count(execution_id)
    with connection.cursor() as cur:
        cur.execute(f"DROP TRIGGER pytest_count_update ON {table}; DROP FUNCTION pytest_count_update();"
                    "DROP TABLE pytest_execution_updates")


def _count(execution_id: int) -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pytest_execution_updates WHERE execution_id = %s", [execution_id])
        return cur.fetchone()[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_long_plan_writes_its_progress_a_bounded_number_of_times_and_the_long_statement_shows_running(
        shop, approved_plan, dba, update_counter):
    quick = "\n".join(f"COMMENT ON TABLE customers IS 'note {i}';" for i in range(QUICK))
    plan = approved_plan(shop, quick + "\n" + LONG_ALTER + ";")
    execution = runner.start_execution(plan, dba)
    updates_before = update_counter(execution.pk)

    def work():
        try:
            execute_plan(execution.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    try:
        seen_running = None
        end = time.monotonic() + 30
        while time.monotonic() < end and seen_running is None:
            row = Execution.objects.get(pk=execution.pk)
            running = [e for e in row.statement_log if e.get("status") == "running"]
            if running and "crawl" in running[-1]["sql"]:
                seen_running = row
            time.sleep(0.05)
        assert seen_running is not None, "the long statement never showed as running"
        # the 80 quick statements before it are in the log the page reads, finished
        assert sum(1 for e in seen_running.statement_log if e.get("status") == "ok") == QUICK
        assert seen_running.progress["done"] == QUICK and seen_running.backend_pid and seen_running.digest_before
        runner.emergency_stop(seen_running, dba)
    finally:
        worker.join(60)
    execution.refresh_from_db()
    assert execution.status == Execution.Status.FAILED and execution.sqlstate == "57014"
    writes = update_counter(execution.pk) - updates_before
    # one write per statement start would be > 2 * QUICK; throttled it is a handful (claim, lock,
    # session/digest, the flushes of the running statement, the stop, the finish)
    assert writes <= 20, writes


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_nothing_is_written_after_the_recorder_is_closed(shop, approved_plan, dba, update_counter):
    plan = approved_plan(shop, "COMMENT ON TABLE customers IS 'x';")
    execution = runner.start_execution(plan, dba)
    recorder = ProgressRecorder(execution, background=True)
    recorder({"event": "statement_started", "index": 0, "sequence": 0, "phase": "migration", "attempt": 1})
    recorder({"event": "statement_finished", "index": 0, "sequence": 0, "duration_ms": 1, "rows": None})
    before = update_counter(execution.pk)
    recorder.close()
    time.sleep(2 * ProgressRecorder.MIN_INTERVAL_SECONDS)
    assert update_counter(execution.pk) == before  # pending progress is dropped: the finish writes the final log
    assert not recorder._flusher.is_alive()
