"""Rollbacks in the app say what they restored (schema and data apart), and data-changing plans
on production need the target's name typed on Execute."""

from __future__ import annotations

import pytest

from migrations_app import execution as runner
from migrations_app.gate import evaluate_gate
from migrations_app.models import Alert, AnalysisRun, Execution, Incident, PlanStatus
from targets.models import TargetDatabase
from tests.factories import TargetDatabaseFactory
from tests.shop import shop_sql

LOYALTY_SQL = shop_sql() + """
INSERT INTO customers SELECT g, 'c' || g, CASE WHEN g <= 2381 THEN 'bronze' ELSE 'gold' END
FROM generate_series(1, 4000) AS g;
"""
BRONZE = "UPDATE customers SET legacy_status = 'silver' WHERE legacy_status = 'bronze'"


@pytest.fixture
def loyalty(target_db, db):
    def make(**fields):
        return TargetDatabaseFactory.for_connection(target_db(LOYALTY_SQL), **fields)
    return make


def _execute_and_roll_back(plan, dba, capture, confirmation=None):
    with capture(execute=True):
        execution = runner.start_execution(plan, dba, typed_confirmation=confirmation)
    execution.refresh_from_db()
    assert execution.status == Execution.Status.SUCCEEDED, execution.error
    with capture(execute=True):
        rollback = runner.request_rollback(execution, dba)
    rollback.refresh_from_db()
    plan.refresh_from_db()
    return execution, rollback


def _bronze(target) -> int:
    with target.connection().read_only() as conn:
        return conn.execute("SELECT count(*) FROM customers WHERE legacy_status = 'bronze'").fetchone()[0]


def test_rolling_back_an_update_without_rollback_sql_restores_the_rows_and_verifies_schema_and_data(
        loyalty, approved_plan, dba, client, django_capture_on_commit_callbacks):
    target = loyalty()
    plan = approved_plan(target, BRONZE)
    execution, rollback = _execute_and_roll_back(plan, dba, django_capture_on_commit_callbacks)
    assert execution.result["rollback_plan"]["backups"][0]["rows"] == 2381
    assert rollback.status == Execution.Status.SUCCEEDED, rollback.error
    assert rollback.schema_verified is True and rollback.data_verified is True and rollback.verified is True
    assert plan.status == PlanStatus.ROLLED_BACK
    assert _bronze(target) == 2381
    # requested and verified: a success to report, not an open incident
    assert not Incident.objects.filter(execution=rollback).exists()
    alert = Alert.objects.get(execution=rollback)
    assert alert.severity == "info" and alert.subject.startswith("Rollback succeeded")
    assert "schema verified" in alert.message and "data verified: 2,381 backed-up row(s)" in alert.message
    client.force_login(dba)
    page = client.get(rollback.get_absolute_url()).content.decode()
    assert "✔ Schema verified" in page and "✔ Data verified" in page


def test_without_a_backup_the_rollback_of_an_update_is_not_called_verified_and_the_plan_is_not_rolled_back(
        loyalty, approved_plan, dba, engineer, client, settings, django_capture_on_commit_callbacks):
    settings.DATAFLOW_BACKUP_MAX_BYTES = 0
    target = loyalty()
    plan = approved_plan(target, BRONZE)
    execution, rollback = _execute_and_roll_back(plan, dba, django_capture_on_commit_callbacks)
    assert execution.result["rollback_plan"]["backups"] == []
    assert rollback.status == Execution.Status.FAILED
    assert rollback.schema_verified is True and rollback.data_verified is None and rollback.verified is False
    assert rollback.data_verification["status"] == "not_restored"
    assert plan.status == PlanStatus.ROLLBACK_FAILED
    assert _bronze(target) == 0  # the 2,381 rows stay changed, and every page says so
    assert "data NOT restored" in rollback.error and "above the backup size limit" in rollback.error
    incident = Incident.objects.get(execution=rollback)
    assert incident.failure_type == Incident.FailureType.ROLLBACK_FAILED
    client.force_login(engineer)
    page = client.get(rollback.get_absolute_url()).content.decode()
    assert "Data NOT restored" in page and "✔ Verified" not in page and "✔ Data verified" not in page
    plan_page = client.get(plan.get_absolute_url()).content.decode()
    assert "data not restored ✘" in plan_page and "verified ✔ ·\n      data verified" not in plan_page


def test_the_rollback_confirmation_lists_what_was_backed_up_and_what_is_irreversible(
        loyalty, approved_plan, dba, client, settings, django_capture_on_commit_callbacks):
    settings.DATAFLOW_BACKUP_MAX_BYTES = 0
    plan = approved_plan(loyalty(), BRONZE)
    with django_capture_on_commit_callbacks(execute=True):
        execution = runner.start_execution(plan, dba)
    client.force_login(dba)
    page = client.get(f"/executions/{execution.pk}/rollback/").content.decode()
    assert "Irreversible for data: operation 1 (UPDATE customers)" in page
    assert "Rollback failed" in page


@pytest.fixture
def production_plan(loyalty, approved_plan):
    target = loyalty(name="prod-shop", environment=TargetDatabase.Environment.PRODUCTION)
    return approved_plan(target, BRONZE)


def test_a_data_changing_plan_on_production_is_refused_without_the_target_name_typed(
        production_plan, dba, client):
    client.force_login(dba)
    page = client.get(f"/plans/{production_plan.pk}/execute/").content.decode()
    assert 'name="confirm_target_name"' in page and "Type <strong>prod-shop</strong>" in page
    assert "Backed up before it changes" in page
    for typed in (None, "", "prod-sho", "PROD-SHOP", "shop"):
        data = {} if typed is None else {"confirm_target_name": typed}
        response = client.post(f"/plans/{production_plan.pk}/execute/", data)
        assert response.status_code == 302 and response.url.endswith(f"/plans/{production_plan.pk}/execute/")
    assert not Execution.objects.filter(plan=production_plan).exists()


def test_a_dba_who_types_the_production_target_name_queues_the_execution(
        production_plan, dba, client, django_capture_on_commit_callbacks):
    client.force_login(dba)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/plans/{production_plan.pk}/execute/", {"confirm_target_name": "prod-shop"})
    execution = Execution.objects.get(plan=production_plan)
    assert response.status_code == 302 and response.url == execution.get_absolute_url()


@pytest.mark.parametrize("persona", ["manager", "engineer", "outsider"])
def test_only_a_dba_may_execute_even_with_the_right_name_typed(production_plan, persona, request, client):
    client.force_login(request.getfixturevalue(persona))
    response = client.post(f"/plans/{production_plan.pk}/execute/", {"confirm_target_name": "prod-shop"})
    assert response.status_code == 403
    assert not Execution.objects.filter(plan=production_plan).exists()


def test_anonymous_execute_goes_to_login(production_plan, client):
    response = client.post(f"/plans/{production_plan.pk}/execute/", {"confirm_target_name": "prod-shop"})
    assert response.status_code == 302 and "login" in response.url
    assert not Execution.objects.exists()


def test_a_schema_only_plan_on_production_needs_no_typed_name(loyalty, approved_plan, dba, client,
                                                               django_capture_on_commit_callbacks):
    target = loyalty(name="prod-shop", environment=TargetDatabase.Environment.PRODUCTION)
    plan = approved_plan(target, "CREATE INDEX customers_name_idx ON customers (name)")
    client.force_login(dba)
    assert "confirm_target_name" not in client.get(f"/plans/{plan.pk}/execute/").content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(f"/plans/{plan.pk}/execute/")
    assert Execution.objects.filter(plan=plan).exists()


def test_the_gate_says_when_the_analysis_found_data_a_rollback_cannot_restore(loyalty, approved_plan, settings):
    from migrations_app.data_backup import backup_preview
    from migrations_app.workflow import store_summary_and_digest

    def analysed_with(report):  # as if the analysis had found it: its summary and digest stored again
        AnalysisRun.objects.filter(plan=plan).update(report=report)
        for run in AnalysisRun.objects.filter(plan=plan):
            store_summary_and_digest(run)

    settings.DATAFLOW_BACKUP_MAX_BYTES = 0
    plan = approved_plan(loyalty(), BRONZE)
    analysed_with({"data_backup": backup_preview(plan)})
    notices = evaluate_gate(plan).notices
    assert len(notices) == 1 and "Irreversible for data" in notices[0] and "UPDATE customers" in notices[0]
    assert evaluate_gate(plan, strict=False).notices == notices  # the page's gate, from the stored summary
    settings.DATAFLOW_BACKUP_MAX_BYTES = 10 ** 9
    analysed_with({"data_backup": backup_preview(plan)})
    assert evaluate_gate(plan).notices == []
