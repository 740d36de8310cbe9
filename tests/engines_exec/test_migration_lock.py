"""MigrationLockManager against a real PostgreSQL: races, parallel schemas, stale rows."""

from __future__ import annotations

import threading
import time

import pytest

from migrations_app.engines.execution import MigrationLockManager, MigrationLockTimeout
from migrations_app.engines.statements import MigrationOperation


def test_two_workers_racing_for_one_schema_twenty_times_run_exactly_one_each_time(shop, fast_executor):
    winners, refusals = [], []
    for round_no in range(20):
        barrier = threading.Barrier(2)
        outcome = {}

        def worker(name: str) -> None:
            executor = fast_executor(shop, owner=name, lock_wait_seconds=0.1)
            op = MigrationOperation(type="SLEEP", table_name="customers", sql="SELECT pg_sleep(0.25)")
            barrier.wait()
            outcome[name] = executor.execute_atomic_migration([op])

        threads = [threading.Thread(target=worker, args=(f"worker-{round_no}-{n}",)) for n in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        succeeded = [name for name, result in outcome.items() if result.success]
        failed = [result for result in outcome.values() if not result.success]
        assert len(succeeded) == 1 and len(failed) == 1, outcome
        assert failed[0].error_type == "MigrationLockTimeout"
        assert succeeded[0] in failed[0].error_message  # the refusal names the holder
        assert failed[0].statement_log == []  # the loser ran nothing
        winners.append(succeeded[0])
        refusals.append(failed[0].error_message)
    assert len(winners) == 20


def test_migrations_on_different_schemas_run_in_parallel(shop, fast_executor):
    spans = {}

    def worker(schema: str) -> None:
        executor = fast_executor(shop, owner=schema)
        op = MigrationOperation(type="SLEEP", table_name="x", sql="SELECT pg_sleep(0.4)", schema=schema)
        started = time.monotonic()
        result = executor.execute_atomic_migration([op])
        spans[schema] = (started, time.monotonic(), result.success)

    threads = [threading.Thread(target=worker, args=(schema,)) for schema in ("public", "billing")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (a_start, a_end, a_ok), (b_start, b_end, b_ok) = spans["public"], spans["billing"]
    assert a_ok and b_ok
    assert a_start < b_end and b_start < a_end  # the two runs overlapped in time


def test_lock_row_shows_the_holder_and_the_heartbeat_renews_it(shop):
    manager = MigrationLockManager(shop, heartbeat_seconds=0.1, owner="alice's execution 7")
    with manager.migration_lock("public", timeout=1) as lock:
        status = manager.check_lock_status("public")
        assert status.is_locked and status.holder_alive and not status.stale
        assert status.holder_process_id == lock.holder_process_id
        assert status.lock_data["owner"] == "alice's execution 7"
        first_expiry = status.expires_at
        time.sleep(0.35)
        assert manager.check_lock_status("public").expires_at > first_expiry
        with pytest.raises(MigrationLockTimeout, match="alice's execution 7"):
            MigrationLockManager(shop).acquire_migration_lock("public", timeout=0.2)
    released = manager.check_lock_status("public")
    assert not released.is_locked and released.holder_process_id is None


def test_a_row_whose_holder_died_is_stale_and_cleanup_removes_only_stale_rows(shop):
    dead = MigrationLockManager(shop, heartbeat_seconds=5)
    live = MigrationLockManager(shop, heartbeat_seconds=5)
    dead_lock = dead.acquire_migration_lock("public", timeout=1)
    live.acquire_migration_lock("billing", timeout=1)
    with shop.connect(autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", [dead_lock.backend_pid])
    status = dead.check_lock_status("public")
    assert status.stale and not status.is_locked and not status.holder_alive
    assert status.holder_process_id == dead_lock.holder_process_id
    assert live.force_cleanup_stale_locks() == ["public"]
    assert live.check_lock_status("billing").holder_alive
    assert live.release_migration_lock("billing") is True
    # the terminated lock is never quietly re-taken: releasing it reports the loss
    assert dead.release_migration_lock("public") is False
