"""What the rollback verification and the Execute confirmation say, read as a user reads them: each
verification line names its outcome once ("✔ Data verified: 5 backed-up row(s)…", not "Data
verified: data verified: …"), and a confirmation that cannot run does not claim a 0-byte backup limit."""

from __future__ import annotations

import re

from migrations_app import execution as runner
from migrations_app.models import Execution
from tests.factories import MigrationPlanFactory, TargetDatabaseFactory

SCHEMA = ("CREATE TABLE events (id integer PRIMARY KEY, body text NOT NULL);"
          "INSERT INTO events SELECT g, 'e' || g FROM generate_series(1, 20) AS g;")


def _verification(page: str) -> str:
    """The text of the 'Rollback verification' list, tags stripped, whitespace collapsed."""
    block = page.split("Rollback verification", 1)[1].split("</ul>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block)).strip()


def _rolled_back(plan, dba, capture) -> Execution:
    with capture(execute=True):
        execution = runner.start_execution(plan, dba)
    execution.refresh_from_db()
    assert execution.status == Execution.Status.SUCCEEDED, execution.error
    with capture(execute=True):
        rollback = runner.request_rollback(execution, dba)
    rollback.refresh_from_db()
    return rollback


def test_a_verified_rollback_says_data_verified_once(target_db, db, approved_plan, dba, client,
                                                     django_capture_on_commit_callbacks):
    target = TargetDatabaseFactory.for_connection(target_db(SCHEMA), name="events-verified")
    plan = approved_plan(target, "DELETE FROM events WHERE id <= 5", risk="MEDIUM")
    rollback = _rolled_back(plan, dba, django_capture_on_commit_callbacks)
    assert rollback.data_verification["status"] == "verified"
    client.force_login(dba)
    text = _verification(client.get(rollback.get_absolute_url()).content.decode())
    assert "✔ Data verified: 5 backed-up row(s) in 1 table(s) restored" in text, text
    assert text.lower().count("data verified") == 1, text


def test_a_random_pick_rollback_says_data_not_restored_once(target_db, db, approved_plan, dba, client,
                                                            django_capture_on_commit_callbacks):
    target = TargetDatabaseFactory.for_connection(target_db(SCHEMA), name="events-random")
    plan = approved_plan(target, "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY random() LIMIT 5)",
                         risk="MEDIUM")
    rollback = _rolled_back(plan, dba, django_capture_on_commit_callbacks)
    assert rollback.data_verification["status"] == "not_restored"
    client.force_login(dba)
    text = _verification(client.get(rollback.get_absolute_url()).content.decode())
    assert "✘ Data NOT restored: operation 1 (DELETE events): the WHERE picks rows with LIMIT" in text, text
    assert text.lower().count("data not restored") == 1, text
    assert "Data verified" not in text


def test_a_confirmation_that_cannot_run_names_no_backup_limit(target_db, db, dba, client):
    target = TargetDatabaseFactory.for_connection(target_db(SCHEMA), name="events-draft")
    plan = MigrationPlanFactory(target=target, author=dba, sql="DELETE FROM events WHERE id <= 5")
    client.force_login(dba)
    page = client.get(f"/plans/{plan.pk}/execute/").content.decode()
    assert "Cannot execute: the plan is draft, not approved" in page
    assert "changes data" in page        # what the plan changes is still listed
    assert "0 bytes" not in page and "Backups go to" not in page  # no backups were planned: no limit claimed


def test_a_confirmation_that_cannot_run_says_what_the_gate_still_needs(target_db, db, dba, client):
    """Not a dead end: besides why it cannot run, the page names the gate's missing requirements
    and links back to the review, where each can be met."""
    target = TargetDatabaseFactory.for_connection(target_db(SCHEMA), name="events-gate")
    plan = MigrationPlanFactory(target=target, author=dba, sql="DELETE FROM events WHERE id <= 5")
    client.force_login(dba)
    page = client.get(f"/plans/{plan.pk}/execute/").content.decode()
    assert "Cannot execute: the plan is draft, not approved" in page
    assert "What is missing: Analysis of the current SQL" in page and "Back to the plan's review" in page
    assert f'href="{plan.get_absolute_url()}"' in page
