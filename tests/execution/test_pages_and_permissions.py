"""Every execution/incident/alert page: allowed roles succeed, others get 403, anonymous goes to
login. Plus the POST actions through the views, the banner, and the incident updates."""

from __future__ import annotations

import pytest
from django.urls import reverse

from migrations_app.models import Execution, Incident, MigrationPlan, PlanStatus
from targets.models import AuditEvent
from tests.factories import ExecutionFactory

READERS = {"dba", "manager", "engineer"}
DBA_ONLY = {"dba"}
STOPPERS = {"dba", "manager"}
PERSONAS = ("dba", "manager", "engineer", "outsider")


@pytest.fixture
def world(shop, approved_plan):
    plan = approved_plan(shop, "ALTER TABLE customers ADD COLUMN email text")
    MigrationPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.SUCCEEDED)
    done = ExecutionFactory(plan=plan, status=Execution.Status.SUCCEEDED,
                            result={"rollback_plan": {"fully_reversible": True, "irreversible_operations": [],
                                                      "steps": [{"sql": "ALTER TABLE customers DROP COLUMN email"}]}})
    running = ExecutionFactory(plan=plan, status=Execution.Status.RUNNING, backend_pid=None)
    incident = Incident.objects.create(plan=plan, execution=done, target=shop, severity="error",
                                       failure_type="execution_failed", title="Execution failed: x",
                                       tables_affected=["public.customers"])
    return {"plan": plan, "done": done, "running": running, "incident": incident}


def _pages(world):
    return [
        ("get", reverse("execution_start", args=[world["plan"].pk]), DBA_ONLY, 200),
        ("get", reverse("execution_detail", args=[world["done"].pk]), READERS, 200),
        ("get", reverse("execution_progress", args=[world["running"].pk]), READERS, 200),
        ("get", reverse("execution_rollback", args=[world["done"].pk]), DBA_ONLY, 200),
        ("get", reverse("execution_stop", args=[world["running"].pk]), STOPPERS, 200),
        ("get", reverse("incident_list"), READERS, 200),
        ("get", reverse("incident_detail", args=[world["incident"].pk]), READERS, 200),
        ("post", reverse("incident_update", args=[world["incident"].pk]), STOPPERS, 302),
        ("get", reverse("alert_list"), READERS, 200),
    ]


def test_every_page_admits_its_roles_refuses_the_others_and_sends_anonymous_users_to_login(
        world, client_for, request):
    users = {name: request.getfixturevalue(name) for name in PERSONAS}
    for method, url, allowed, ok_status in _pages(world):
        for name, user in users.items():
            response = getattr(client_for(user), method)(url, {"note": "n"} if method == "post" else None)
            expected = ok_status if name in allowed else 403
            assert response.status_code == expected, (url, name, response.status_code)
        anonymous = getattr(client_for(None), method)(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login")), url


def test_the_execute_button_runs_the_plan_and_the_page_shows_its_log(
        shop, approved_plan, dba, engineer, client_for, django_capture_on_commit_callbacks):
    plan = approved_plan(shop, "ALTER TABLE customers ADD COLUMN email text")
    assert "Execute…" in client_for(dba).get(plan.get_absolute_url()).content.decode()
    assert "Execute…" not in client_for(engineer).get(plan.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(dba).post(reverse("execution_start", args=[plan.pk]))
    execution = Execution.objects.get(plan=plan)
    assert response.status_code == 302 and response["Location"] == execution.get_absolute_url()
    page = client_for(engineer).get(execution.get_absolute_url()).content.decode()
    assert "ALTER TABLE customers ADD COLUMN email text" in page and execution.digest_after in page
    assert 'hx-trigger="every 1s"' not in page  # finished: the panel stops polling
    plan_page = client_for(dba).get(plan.get_absolute_url()).content.decode()
    assert "Roll back…" in plan_page


def test_a_running_execution_polls_and_appears_in_the_banner_with_a_stop_button_for_stoppers(
        world, manager, engineer, client_for):
    running = world["running"]
    fragment = client_for(engineer).get(reverse("execution_progress", args=[running.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    stop_url = reverse("execution_stop", args=[running.pk])
    assert stop_url in client_for(manager).get(reverse("dashboard")).content.decode()
    engineer_page = client_for(engineer).get(reverse("dashboard")).content.decode()
    assert "Running migrations" in engineer_page and stop_url not in engineer_page


def test_a_manager_stops_a_running_execution_from_the_confirmation_page(world, manager, client_for):
    running = world["running"]
    response = client_for(manager).post(reverse("execution_stop", args=[running.pk]))
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.stop_requested_by == manager and running.stop_requested_at is not None
    assert AuditEvent.objects.filter(verb="execution.emergency_stop", object_id=str(running.pk)).exists()


def test_dbas_and_managers_update_incident_status_and_notes_on_the_timeline(world, manager, client_for):
    incident = world["incident"]
    client_for(manager).post(reverse("incident_update", args=[incident.pk]),
                             {"status": "mitigated", "note": "restarted the app servers"})
    incident.refresh_from_db()
    assert incident.status == "mitigated" and incident.notes[0]["text"] == "restarted the app servers"
    assert [e["kind"] for e in incident.timeline][-2:] == ["status", "note"]
    assert AuditEvent.objects.filter(verb="incident.updated", object_id=str(incident.pk)).exists()
    page = client_for(manager).get(incident.get_absolute_url()).content.decode()
    assert "restarted the app servers" in page and world["plan"].get_absolute_url() in page


def test_the_incident_list_filters_by_severity_status_target_table_date_and_text(world, engineer, client_for):
    other = Incident.objects.create(plan=world["plan"], target=world["plan"].target, severity="critical",
                                    failure_type="rollback_failed", title="Rollback failed: y",
                                    tables_affected=["billing.invoices"], status="resolved")
    client = client_for(engineer)

    def listed(**params):
        page = client.get(reverse("incident_list"), params).content.decode()
        return {i.pk for i in (world["incident"], other) if f"#{i.pk} " in page}

    assert listed() == {world["incident"].pk, other.pk}
    assert listed(severity="critical") == {other.pk}
    assert listed(status="open") == {world["incident"].pk}
    assert listed(table="invoices") == {other.pk}
    assert listed(q="Rollback") == {other.pk}
    assert listed(target=world["plan"].target.pk) == {world["incident"].pk, other.pk}
    assert listed(since="2000-01-01", until="2000-01-02") == set()
