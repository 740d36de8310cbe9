"""The analysis task against a real target database (the demo schema, loaded into a throwaway DB)."""

from pathlib import Path

import pytest

from migrations_app import workflow
from migrations_app.models import AnalysisRun, PlanStatus
from migrations_app.plan_sql import script_to_operations
from migrations_app.tasks import run_plan_analysis
from targets.models import AuditEvent
from tests.factories import TargetDatabaseFactory

DEMO_SCHEMA = (Path(__file__).resolve().parents[2] / "migrations_app/demo/demo_shop_schema.sql").read_text()


@pytest.fixture
def demo_target(target_db, db):
    conn = target_db(DEMO_SCHEMA)
    target = TargetDatabaseFactory(name="demo-copy", host=conn.host, port=conn.port, dbname=conn.dbname,
                                   user=conn.user, environment="production")
    if conn.password:
        target.password = conn.password
        target.save()
    return target


def test_analysis_task_stores_reports_and_moves_the_plan_to_review(demo_target, dba, django_capture_on_commit_callbacks):
    plan = workflow.create_plan(dba, target=demo_target, title="Drop legacy status",
                                operations=script_to_operations("ALTER TABLE customers DROP COLUMN legacy_status",
                                                                "public", demo_target))
    # the rollback was read from the live catalog: exact type
    assert plan.operations.get().rollback_sql.endswith("ADD COLUMN legacy_status character varying(20)")
    with django_capture_on_commit_callbacks(execute=True):
        run = workflow.request_analysis(plan, dba)  # django-q2 runs synchronously in tests
    run.refresh_from_db()
    plan.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    assert plan.status in (PlanStatus.IN_REVIEW, PlanStatus.APPROVED)
    assert plan.risk_level in ("HIGH", "CRITICAL") and plan.risk_score == run.risk_score
    names = {(d["type"], d["schema"], d["name"]) for r in run.report["dependencies"] for d in r["dependencies"]}
    assert ("VIEW", "public", "active_customers") in names
    assert ("VIEW", "billing", "open_invoices") in names
    assert run.report["statements"][0]["kind"] == "DROP_COLUMN"
    assert any(f["rule"] == "column-has-dependents" for f in run.report["statements"][0]["findings"])


def test_delivering_the_analysis_task_twice_analyses_once(demo_target, dba):
    plan = workflow.create_plan(dba, target=demo_target, title="Add weight",
                                operations=script_to_operations("ALTER TABLE products ADD COLUMN weight integer", "public"))
    run = workflow.request_analysis(plan, dba)  # queued on commit, which never comes in this test
    assert run_plan_analysis(run.pk) == "done"
    events = AuditEvent.objects.count()
    finished = AnalysisRun.objects.get(pk=run.pk).finished_at
    assert run_plan_analysis(run.pk) == "already taken"
    assert AuditEvent.objects.count() == events
    assert AnalysisRun.objects.get(pk=run.pk).finished_at == finished


def test_an_unreachable_target_fails_the_analysis_with_the_exact_error(dba, db):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = TargetDatabaseFactory(name="down", host="127.0.0.1", port=port)
    plan = workflow.create_plan(dba, target=target, title="x",
                                operations=script_to_operations("ALTER TABLE t ADD COLUMN c int", "public"))
    run = workflow.request_analysis(plan, dba)
    run_plan_analysis(run.pk)
    run.refresh_from_db()
    plan.refresh_from_db()
    # fail closed: no silent fall back to "no dependencies"
    assert run.status == AnalysisRun.Status.FAILED
    assert "cannot connect" in run.error and str(port) in run.error
    assert plan.status == PlanStatus.FAILED


def _data_loss_message(plan, dba, capture) -> dict:
    with capture(execute=True):
        run = workflow.request_analysis(plan, dba)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    found = [f for s in run.report["statements"] for f in s["findings"] if f["rule"] == "data-loss-without-backup"]
    assert len(found) == 1
    return found[0]


def test_the_data_loss_finding_says_execute_backs_the_rows_up_itself_or_why_it_cannot(
        target_db, dba, settings, django_capture_on_commit_callbacks):
    conn = target_db(DEMO_SCHEMA + "\nINSERT INTO public.customers (email, full_name, legacy_status) "
                                   "SELECT 'c' || g || '@x.org', 'C ' || g, 'gold' FROM generate_series(1, 500) g;")
    target = TargetDatabaseFactory.for_connection(conn, environment="production")
    plan = workflow.create_plan(dba, target=target, title="Drop legacy status",
                                operations=script_to_operations("ALTER TABLE customers DROP COLUMN legacy_status",
                                                                "public", target))
    finding = _data_loss_message(plan, dba, django_capture_on_commit_callbacks)
    assert "no backup is recorded" not in finding["message"]
    assert "Execute… backs up the rows itself" in finding["message"]
    assert "values of public.customers.legacy_status" in finding["message"]
    assert finding["evidence"]["executor_backup"] == "all"
    assert finding["severity"] == "error"  # production: the severity (and its floor) stays
    run = AnalysisRun.objects.filter(plan=plan).latest("pk")
    factors = {f["name"]: f for f in run.report["risk"]["factors"]}
    assert "Execute… backs the rows up itself" in factors["no_backup"]["evidence"]
    assert factors["no_backup"]["points"] == 15  # the points stay: planned, not taken

    settings.DATAFLOW_BACKUP_MAX_BYTES = 0  # the executor cannot back it up: the finding says why
    finding = _data_loss_message(plan, dba, django_capture_on_commit_callbacks)
    assert "no backup is recorded; Execute… cannot back it up itself" in finding["message"]
    assert "above the backup size limit" in finding["message"]
    assert finding["evidence"]["executor_backup"] == "none"
    run = AnalysisRun.objects.filter(plan=plan).latest("pk")
    factors = {f["name"]: f for f in run.report["risk"]["factors"]}
    assert factors["no_backup"]["evidence"].endswith("no backup is recorded: the data cannot be restored")
