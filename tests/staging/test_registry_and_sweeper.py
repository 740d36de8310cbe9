"""The Django registry (limit under concurrency), the sweeper, and a worker killed mid-copy."""

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
from psycopg import sql

from staging_app import tasks
from staging_app.engines import guard
from staging_app.engines.registry import StagingLimitExceeded
from staging_app.engines.staging_environment_manager import StagingEnvironmentConfig
from staging_app.models import StagingEnvironment, StagingOrphan
from staging_app.registry import manager_for
from targets.models import TargetDatabase
from tests import pg
from tests.staging.conftest import drop_leftover_copies

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def target(source_db):
    return TargetDatabase.objects.create(name="shop", host=source_db.host, port=source_db.port,
                                         dbname=source_db.dbname, user=source_db.user)


@pytest.fixture
def cleanup_copies():
    yield
    drop_leftover_copies(StagingEnvironment.objects.values_list("staging_id", flat=True))


def _exists(database: str) -> bool:
    with pg.admin_connect() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone() is not None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_limit_holds_under_five_concurrent_creations(target, cleanup_copies):
    config = StagingEnvironmentConfig(max_staging_environments=2)
    start = threading.Barrier(5)
    created, refused, failed = [], [], []

    def create():
        try:
            start.wait()
            created.append(manager_for(target, config=config).create_staging_environment(target.connection(), 0.1))
        except StagingLimitExceeded:
            refused.append(1)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            failed.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failed == []
    assert (len(created), len(refused)) == (2, 3)
    assert StagingEnvironment.objects.filter(status__in=["CREATING", "READY"]).count() == 2
    assert all(_exists(env.database_name) for env in created)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_task_replicates_and_cleanup_through_the_registry_survives_a_new_process(target, cleanup_copies):
    env = manager_for(target).create_staging_environment(target.connection(), 0.1)
    outcome = tasks.replicate_staging_environment(env.staging_id)
    assert outcome["status"] == "READY"
    assert tasks.replicate_staging_environment(env.staging_id)["skipped"]  # a second delivery does nothing
    row = StagingEnvironment.objects.get(staging_id=env.staging_id)
    assert row.status == "READY" and row.replication_result["total_rows_sampled"] > 0
    assert row.progress["phase"] == "done" and row.progress_percent == 100
    # A fresh manager (as in another process) finds the credentials through the target.
    assert manager_for(target).cleanup_staging_environment(env.staging_id)["cleanup_status"] == "SUCCESS"
    assert not _exists(env.database_name)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweeper_drops_expired_copies_and_records_orphans(target, cleanup_copies):
    env = manager_for(target).create_staging_environment(target.connection(), 0.1)
    StagingEnvironment.objects.filter(staging_id=env.staging_id).update(
        expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    orphan_id = "0badc0ffee00"
    orphan = f"{guard.STAGING_PREFIX}{orphan_id}"
    with pg.admin_connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(orphan)))
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(orphan),
                                                                    sql.Literal(guard.marker_for(orphan_id))))
    try:
        report = tasks.sweep_staging_environments()
        assert [e["staging_id"] for e in report["expired"]] == [env.staging_id]
        assert StagingEnvironment.objects.get(staging_id=env.staging_id).status == "CLEANED"
        assert not _exists(env.database_name)
        assert StagingOrphan.objects.filter(database_name=orphan, resolved_at__isnull=True).exists()
        assert _exists(orphan)  # reported for a DBA, never dropped by the sweeper
    finally:
        guard.drop_staging_database(pg.server_connection(), orphan, orphan_id)
    tasks.sweep_staging_environments()
    assert StagingOrphan.objects.get(database_name=orphan).resolved_at is not None


KILLED_WORKER = """
import os, sys, time, django
django.setup()
from staging_app.models import StagingEnvironment
from staging_app.registry import manager_for

staging_id, flag = sys.argv[1], sys.argv[2]
row = StagingEnvironment.objects.select_related("target").get(staging_id=staging_id)

def stall(state):
    if state["phase"] == "copying" and state["tables_done"] >= 1:
        open(flag, "w").close()
        time.sleep(600)  # killed here, mid-copy

manager_for(row.target).replicate_production_schema(staging_id, progress=stall)
"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_during_the_copy_leaves_no_orphan_after_the_sweeper(target, cleanup_copies, tmp_path):
    env = manager_for(target).create_staging_environment(target.connection(), 0.1)
    flag = tmp_path / "copying"
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "dataflow_site.settings",
                 "DATABASE_URL": pg.app_database_url()}
    child = subprocess.Popen([sys.executable, "-c", KILLED_WORKER, env.staging_id, str(flag)], env=child_env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert child.poll() is None, "the worker exited before the copy started"
            assert time.monotonic() < deadline, "the worker never reached the copy"
            time.sleep(0.1)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    row = StagingEnvironment.objects.get(staging_id=env.staging_id)
    assert row.status == "REPLICATING" and _exists(env.database_name)

    # The server notices the dead client within moments; the sweeper waits for that.
    for _ in range(50):
        report = tasks.sweep_staging_environments(in_flight_grace_seconds=0)
        if report["abandoned"]:
            break
        time.sleep(0.2)
    assert [a["staging_id"] for a in report["abandoned"]] == [env.staging_id]
    row.refresh_from_db()
    assert row.status == "ERROR" and "abandoned" in row.error
    assert not _exists(env.database_name)
    assert env.database_name not in {o["database"] for o in tasks.sweep_staging_environments()["orphans"]}
