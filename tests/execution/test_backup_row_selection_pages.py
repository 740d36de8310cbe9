"""The pages around Execute and rollback say that a DELETE whose WHERE picks rows at random is not
backed up, and why, and never call its rollback verified for data."""

from __future__ import annotations

from migrations_app import execution as runner
from migrations_app.models import Execution
from tests.factories import TargetDatabaseFactory

SCHEMA = ("CREATE TABLE events (id integer PRIMARY KEY, body text NOT NULL);"
          "INSERT INTO events SELECT g, 'e' || g FROM generate_series(1, 20) AS g;")
DELETE = "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY random() LIMIT 5)"
REASON = ("the WHERE picks rows with LIMIT and calls random(), a volatile function "
          "(no copy taken beforehand can be known to hold the same rows)")


def _count(target) -> int:
    with target.connection().read_only() as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


def test_execute_and_rollback_pages_say_the_random_pick_is_not_restorable(
        target_db, db, approved_plan, dba, client, django_capture_on_commit_callbacks):
    target = TargetDatabaseFactory.for_connection(target_db(SCHEMA), name="events-copy")
    plan = approved_plan(target, DELETE)
    client.force_login(dba)
    confirm = client.get(f"/plans/{plan.pk}/execute/").content.decode()
    assert f"✘ Irreversible for data: operation 1 (DELETE events): {REASON}" in confirm
    assert "✔ Backed up before it changes" not in confirm

    with django_capture_on_commit_callbacks(execute=True):
        execution = runner.start_execution(plan, dba)
    execution.refresh_from_db()
    assert execution.status == Execution.Status.SUCCEEDED, execution.error
    assert execution.result["rollback_plan"]["backups"] == []
    assert _count(target) == 15
    with django_capture_on_commit_callbacks(execute=True):
        rollback = runner.request_rollback(execution, dba)
    rollback.refresh_from_db()
    assert rollback.data_verified is None and rollback.verified is False
    assert rollback.data_verification["status"] == "not_restored"
    assert REASON in rollback.error
    page = client.get(rollback.get_absolute_url()).content.decode()
    assert "✘ Data NOT restored" in page and REASON in page
    assert "✔ Data verified" not in page and "✔ Verified" not in page
    assert _count(target) == 15   # the five rows stay deleted, as every page says
