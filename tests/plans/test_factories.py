"""The factories build what the gate and the workflow expect, and refuse to pretend otherwise."""

import pytest

from migrations_app import gate, workflow
from migrations_app.models import PlanStatus
from targets.models import AuditEvent
from tests.factories import (MigrationPlanFactory, RehearsalFactory, SignOffFactory, TargetDatabaseFactory, approve,
                             approved_plan)

pytestmark = pytest.mark.django_db


def test_a_factory_plan_goes_through_create_plan_with_its_hash_and_audit_event(dba, target):
    plan = MigrationPlanFactory(author=dba, target=target)
    assert plan.status == PlanStatus.DRAFT
    assert plan.sql_hash == workflow.compute_sql_hash(plan.operations.all())
    created = AuditEvent.objects.filter(verb="plan.created", object_type="migrationplan", object_id=str(plan.pk))
    assert created.count() == 1


def test_a_factory_plan_is_refused_by_the_statement_policy_like_any_other(dba, target):
    refused = {"type": "SQL", "schema_name": "public", "table": "", "column": "", "sql": "COMMIT",
               "rollback_sql": "", "rollback_note": "", "line": 1}
    with pytest.raises(workflow.WorkflowError, match="operation 1"):
        MigrationPlanFactory(author=dba, target=target, operations=[refused])


def test_a_sign_off_row_binds_the_current_version_and_stops_counting_after_a_new_analysis(
        plan, analysed, other_dba):
    analysed(plan, "MEDIUM")
    SignOffFactory(plan=plan, user=other_dba)
    assert gate.evaluate_gate(plan).satisfied

    analysed(plan, "MEDIUM")
    assert plan.status == PlanStatus.IN_REVIEW
    review = next(r for r in gate.evaluate_gate(plan).requirements if r.key == "dba_review")
    assert not review.met and "the plan was analysed again" in review.detail


def test_a_high_plan_counts_a_passed_rehearsal_only_on_a_copy_of_its_own_target(plan, analysed, manager):
    analysed(plan, "HIGH")
    approve(plan, manager)
    RehearsalFactory(plan=plan, passed=True, environment__target=TargetDatabaseFactory(name="elsewhere"))
    assert plan.status == PlanStatus.IN_REVIEW
    assert [r.key for r in gate.evaluate_gate(plan).missing] == ["staging"]

    RehearsalFactory(plan=plan, passed=True)
    workflow.refresh_approval(plan, None)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


def test_a_critical_plan_needs_the_full_staging_test_not_just_a_passed_rehearsal(plan, analysed, manager, dba):
    analysed(plan, "CRITICAL")
    approve(plan, manager)
    workflow.tick_checklist(plan, dba, {f: True for f in workflow.CHECKLIST_FIELDS})
    RehearsalFactory(plan=plan, passed=True)
    staging = next(r for r in gate.evaluate_gate(plan).requirements if r.key == "staging")
    assert not staging.met and "not verified for data" in staging.detail

    RehearsalFactory(plan=plan, full=True)
    workflow.refresh_approval(plan, None)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


def test_approved_plan_raises_when_the_gate_does_not_approve(dba, target):
    with pytest.raises(AssertionError, match="Review sign-off by a DBA other than the author"):
        approved_plan(dba, target, level="MEDIUM")


def test_approved_plan_with_a_reviewer_is_approved_through_the_workflow(dba, other_dba, target):
    plan = approved_plan(dba, target, level="MEDIUM", signers=[other_dba])
    assert plan.status == PlanStatus.APPROVED
    assert gate.executable(plan) == (True, "")
    events = AuditEvent.objects.filter(object_type="migrationplan", object_id=str(plan.pk)).order_by("pk")
    verbs = list(events.values_list("verb", flat=True))
    assert verbs == ["plan.created", "plan.analysis_requested", "plan.analysed", "plan.signed_off.review",
                     "plan.approved"]
