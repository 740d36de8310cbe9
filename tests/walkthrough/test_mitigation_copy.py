"""Copying a mitigation step into the plan puts it where it protects the statements."""

import pytest

from tests.factories import AnalysisRunFactory, MigrationPlanFactory, TargetDatabaseFactory

DROP = {"type": "DROP_COLUMN", "schema_name": "public", "table": "customers", "column": "legacy_status",
        "sql": "ALTER TABLE customers DROP COLUMN legacy_status",
        "rollback_sql": "ALTER TABLE customers ADD COLUMN legacy_status text", "rollback_note": "", "line": 1}


@pytest.fixture
def dropping_plan(dba):
    target = TargetDatabaseFactory(name="shop-dev")
    plan = MigrationPlanFactory(author=dba, target=target, title="Drop legacy_status", operations=[DROP])
    steps = [
        {"order": 1, "name": "Back up the data before the destructive statements", "phase": "prepare",
         "safe_sql": "CREATE SCHEMA IF NOT EXISTS dataflow_backup;\n"
                     "CREATE TABLE dataflow_backup.customers AS TABLE public.customers;"},
        {"order": 2, "name": "Validate afterwards", "phase": "verify",
         "safe_sql": "ANALYZE customers;"},
    ]
    AnalysisRunFactory(plan=plan, report={"mitigation": {"steps": steps}})
    return plan


def _sqls(plan):
    return [op.sql for op in plan.operations.order_by("position")]


def test_a_backup_step_is_copied_before_the_statement_that_destroys_the_data(dropping_plan, dba, client_for):
    response = client_for(dba).post(f"/plans/{dropping_plan.pk}/mitigation/1/apply/", follow=True)

    assert _sqls(dropping_plan) == ["CREATE SCHEMA IF NOT EXISTS dataflow_backup",
                                    "CREATE TABLE dataflow_backup.customers AS TABLE public.customers",
                                    "ALTER TABLE customers DROP COLUMN legacy_status"]
    assert [op.position for op in dropping_plan.operations.order_by("position")] == [1, 2, 3]
    assert "at the start of the plan" in response.content.decode()


def test_a_verification_step_is_copied_after_the_plan(dropping_plan, dba, client_for):
    client_for(dba).post(f"/plans/{dropping_plan.pk}/mitigation/2/apply/")

    assert _sqls(dropping_plan) == ["ALTER TABLE customers DROP COLUMN legacy_status", "ANALYZE customers"]


def test_copying_a_step_voids_sign_offs_and_returns_the_plan_to_draft_in_one_change(dropping_plan, dba, client_for):
    from targets.models import AuditEvent

    before = AuditEvent.objects.filter(verb="plan.operation_added").count()
    client_for(dba).post(f"/plans/{dropping_plan.pk}/mitigation/1/apply/")

    dropping_plan.refresh_from_db()
    assert dropping_plan.status == "DRAFT"
    assert AuditEvent.objects.filter(verb="plan.operation_added").count() == before + 1
