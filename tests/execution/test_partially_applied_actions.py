"""Resume and roll back a partially applied plan: confirmation pages, DBA only, audited, and
refused when the plan can no longer be resumed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from migrations_app import execution as runner
from migrations_app.models import Execution, PlanStatus
from migrations_app.tasks import execute_plan, rollback_execution
from targets.models import AuditEvent
from tests.factories import TargetDatabaseFactory

# operation 1 commits and has no rollback SQL; operation 2 fails: nothing is compensated
PLAN_SQL = "UPDATE counter SET n = n + 1;\nCREATE INDEX CONCURRENTLY missing_idx ON missing_table (n);"


@pytest.fixture
def partially_applied(target_db, db, approved_plan, dba, django_capture_on_commit_callbacks):
    conn = target_db("CREATE TABLE counter (id integer PRIMARY KEY, n integer NOT NULL); INSERT INTO counter VALUES (1, 0);")
    target = TargetDatabaseFactory(name="counter", host=conn.host, port=conn.port, dbname=conn.dbname, user=conn.user)
    plan = approved_plan(target, PLAN_SQL)
    with django_capture_on_commit_callbacks(execute=False):
        execution = runner.start_execution(plan, dba)
    execute_plan(execution.pk)
    execution.refresh_from_db()
    assert execution.status == Execution.Status.PARTIALLY_APPLIED, execution.error
    assert execution.committed_operations == [0]
    return execution


def counter(execution) -> int:
    with execution.plan.target.connection().read_only() as conn:
        return conn.execute("SELECT n FROM counter").fetchone()[0]


@pytest.mark.parametrize("name", ["execution_resume", "execution_rollback_applied"])
def test_only_a_dba_sees_the_confirmation_of_resume_and_roll_back_applied(
        client, partially_applied, dba, manager, engineer, outsider, name):
    url = reverse(name, args=[partially_applied.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for user in (manager, engineer, outsider):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403
    client.force_login(dba)
    page = client.get(url)
    assert page.status_code == 200
    assert b"UPDATE counter SET n = n + 1" in page.content and b"migration_journal" in page.content
    assert Execution.objects.filter(plan=partially_applied.plan).count() == 1  # a GET queues nothing


def test_the_execution_page_offers_resume_and_roll_back_applied_to_a_dba_only(
        client, partially_applied, dba, engineer):
    client.force_login(engineer)
    assert b"Resume" not in client.get(partially_applied.get_absolute_url()).content
    client.force_login(dba)
    page = client.get(partially_applied.get_absolute_url()).content
    assert b"Resume" in page and b"Roll back applied operations" in page and b"Partially applied" in page


def test_a_dba_resumes_at_the_first_operation_not_applied_and_it_is_audited(
        client, partially_applied, dba, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(runner, "queue_execution", lambda task, execution_id: None)
    client.force_login(dba)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("execution_resume", args=[partially_applied.pk]))
    resume = Execution.objects.get(resume_of=partially_applied)
    assert response.status_code == 302 and response["Location"] == resume.get_absolute_url()
    assert resume.start_operation == 1 and resume.committed_operations == [0]
    assert AuditEvent.objects.filter(verb="execution.resume_queued", actor=dba).exists()
    execute_plan(resume.pk)
    resume.refresh_from_db()
    # operation 2 fails again; operation 1 was not run a second time
    assert resume.status == Execution.Status.PARTIALLY_APPLIED and counter(partially_applied) == 1
    assert resume.plan.status == PlanStatus.PARTIALLY_APPLIED


def test_a_dba_rolls_back_only_the_applied_operations_and_the_counter_is_restored(
        client, partially_applied, dba, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(runner, "queue_execution", lambda task, execution_id: None)
    client.force_login(dba)
    page = client.get(reverse("execution_rollback_applied", args=[partially_applied.pk]))
    assert b"restore the pre-image of the updated rows of public.counter" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("execution_rollback_applied", args=[partially_applied.pk]))
    rollback = Execution.objects.get(rollback_of=partially_applied)
    assert {s["operation_index"] for s in rollback.rollback_plan_to_run["steps"]} == {0}
    assert AuditEvent.objects.filter(verb="execution.rollback_queued", actor=dba).exists()
    rollback_execution(rollback.pk)
    rollback.refresh_from_db()
    assert rollback.status == Execution.Status.SUCCEEDED, rollback.error
    assert counter(partially_applied) == 0 and rollback.plan.status == PlanStatus.ROLLED_BACK


def test_a_second_resume_of_the_same_run_is_refused(client, partially_applied, dba, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    monkeypatch.setattr(runner, "queue_execution", lambda task, execution_id: None)
    client.force_login(dba)
    url = reverse("execution_resume", args=[partially_applied.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
        client.post(url)
    assert Execution.objects.filter(resume_of=partially_applied).count() == 1
