import threading

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection

from migrations_app import workflow
from migrations_app.gate import evaluate_gate, executable
from migrations_app.models import MigrationPlan, PlanStatus, SignOff
from targets.models import AuditEvent


def test_low_plan_is_approved_once_analysed(plan, analysed):
    analysed(plan, "LOW")
    assert plan.status == PlanStatus.APPROVED
    assert executable(plan) == (True, "")


def test_medium_plan_needs_a_review_by_another_dba(plan, analysed, other_dba):
    analysed(plan, "MEDIUM")
    assert plan.status == PlanStatus.IN_REVIEW
    assert not evaluate_gate(plan).satisfied
    workflow.sign_off(plan, other_dba, "review", "looks fine")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


def test_manager_approval_of_a_medium_plan_is_refused_because_it_would_count_for_nothing(plan, analysed, manager):
    analysed(plan, "MEDIUM")
    with pytest.raises(workflow.WorkflowError, match="counts for nothing on a MEDIUM plan"):
        workflow.sign_off(plan, manager, "approve")
    plan.refresh_from_db()
    assert not plan.sign_offs.exists()
    assert plan.status == PlanStatus.IN_REVIEW
    assert [r.key for r in evaluate_gate(plan).missing] == ["dba_review"]


def test_high_plan_approved_by_a_manager_still_waits_for_staging_validation(plan, analysed, manager):
    analysed(plan, "HIGH")
    workflow.sign_off(plan, manager, "approve", "ok with a rehearsal")
    plan.refresh_from_db()
    gate = evaluate_gate(plan)
    assert plan.status == PlanStatus.IN_REVIEW
    assert {r.key: r.met for r in gate.requirements} == {"analysis": True, "manager_approval": True, "staging": False}
    assert executable(plan)[0] is False


def test_critical_production_plan_lists_the_checklist(plan, analysed, manager, dba):
    analysed(plan, "CRITICAL")
    keys = [r.key for r in evaluate_gate(plan).missing]
    assert keys == ["manager_approval", "staging", "checklist"]
    workflow.tick_checklist(plan, dba, {f: True for f in workflow.CHECKLIST_FIELDS})
    plan.refresh_from_db()
    assert "checklist" not in [r.key for r in evaluate_gate(plan).missing]
    assert plan.checklist_by == dba


def test_author_cannot_sign_off_own_plan(plan, analysed, dba):
    analysed(plan, "MEDIUM")
    for decision in ("review", "approve", "reject"):
        with pytest.raises(PermissionDenied):
            workflow.sign_off(plan, dba, decision, "mine")
    assert not SignOff.objects.exists()


def test_engineer_cannot_sign_off(plan, analysed, engineer):
    analysed(plan, "MEDIUM")
    with pytest.raises(PermissionDenied):
        workflow.sign_off(plan, engineer, "review")
    assert not SignOff.objects.exists()


def test_rejection_needs_a_comment_and_goes_back_to_the_author(plan, analysed, manager, dba,
                                                              django_capture_on_commit_callbacks):
    analysed(plan, "HIGH")
    with pytest.raises(workflow.WorkflowError, match="comment"):
        workflow.sign_off(plan, manager, "reject", "  ")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.sign_off(plan, manager, "reject", "add a backup step first")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.REJECTED
    assert any("rejected" in m.subject for m in mail.outbox if dba.email in m.to)
    workflow.reopen(plan, dba)
    assert plan.status == PlanStatus.DRAFT


def test_any_change_to_the_operations_voids_sign_offs_and_returns_to_draft(plan, analysed, other_dba, dba):
    analysed(plan, "MEDIUM")
    workflow.sign_off(plan, other_dba, "review")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    old_hash = plan.sql_hash
    workflow.add_operation(plan, dba, type="CREATE_INDEX", schema_name="public", table="customers", column="",
                           sql="CREATE INDEX CONCURRENTLY c_nick ON customers (nickname)",
                           rollback_sql="DROP INDEX CONCURRENTLY c_nick", rollback_note="", line=None)
    assert plan.status == PlanStatus.DRAFT and plan.sql_hash != old_hash and plan.risk_level == ""
    assert SignOff.objects.get().voided is True
    assert evaluate_gate(plan).requirements[0].met is False  # a new analysis is needed
    event = AuditEvent.objects.filter(verb="plan.operation_added").get()
    assert event.data["sign_offs_voided"] == 1


def test_title_change_keeps_sign_offs(plan, analysed, other_dba, dba):
    analysed(plan, "MEDIUM")
    workflow.sign_off(plan, other_dba, "review")
    workflow.update_details(plan, dba, title="Add nickname column", description="for the app")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and not SignOff.objects.filter(voided=True).exists()


def test_only_the_author_edits_a_plan(plan, other_dba):
    with pytest.raises(PermissionDenied):
        workflow.remove_operation(plan, other_dba, plan.operations.get().pk)
    assert plan.operations.count() == 1


def test_illegal_transitions_are_refused(plan, analysed, other_dba, dba):
    with pytest.raises(workflow.WorkflowError):
        workflow.sign_off(plan, other_dba, "review")  # a draft cannot be signed
    assert not workflow.transition(plan, [PlanStatus.APPROVED], PlanStatus.EXECUTING, dba, "plan.execution_started")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    MigrationPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.SUCCEEDED)
    plan.refresh_from_db()
    with pytest.raises(workflow.WorkflowError):
        workflow.remove_operation(plan, dba, plan.operations.get().pk)
    with pytest.raises(workflow.WorkflowError):
        workflow.request_analysis(plan, dba)


def test_each_state_change_writes_exactly_one_audit_event(plan, analysed, other_dba):
    before = AuditEvent.objects.count()
    analysed(plan, "MEDIUM")  # DRAFT->ANALYZING, ANALYZING->IN_REVIEW
    assert AuditEvent.objects.count() == before + 2
    workflow.sign_off(plan, other_dba, "review")  # the sign-off, then IN_REVIEW->APPROVED
    verbs = list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))[-2:]
    assert verbs == ["plan.signed_off.review", "plan.approved"]


def test_analysis_of_an_outdated_hash_is_stale_and_moves_nothing(plan, dba):
    from django.utils import timezone

    from migrations_app.models import AnalysisRun

    run = workflow.request_analysis(plan, dba)
    workflow.add_operation(plan, dba, type="OTHER", schema_name="public", table="", column="", sql="SELECT 1",
                           rollback_sql="", rollback_note="", line=None)
    AnalysisRun.objects.filter(pk=run.pk).update(status=AnalysisRun.Status.RUNNING, started_at=timezone.now())
    run.refresh_from_db()
    workflow.finish_analysis(run, {"risk": {"risk_level": "LOW", "overall_score": 5}})
    run.refresh_from_db()
    plan.refresh_from_db()
    assert run.status == AnalysisRun.Status.STALE
    assert plan.status == PlanStatus.DRAFT


def test_managers_are_emailed_when_a_high_plan_awaits_sign_off(plan, analysed, manager,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        analysed(plan, "HIGH")
    assert [m.to for m in mail.outbox if "awaits your sign-off" in m.subject] == [[manager.email]]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_approval_and_edit_cannot_both_win(dba, other_dba, django_user_model):
    """An edit and a review race; whatever the order, a sign-off never survives on changed SQL."""
    from tests.factories import MigrationPlanFactory, TargetDatabaseFactory, analyse

    target = TargetDatabaseFactory()
    for attempt in range(6):
        plan = MigrationPlanFactory(author=dba, target=target, title=f"race {attempt}")
        analyse(plan, "MEDIUM", score=40)
        barrier = threading.Barrier(2)
        errors = []

        def review():
            try:
                barrier.wait()
                workflow.sign_off(MigrationPlan.objects.get(pk=plan.pk), other_dba, "review")
            except workflow.WorkflowError as exc:
                errors.append(exc)
            finally:
                connection.close()

        def edit():
            try:
                barrier.wait()
                workflow.update_operation(MigrationPlan.objects.get(pk=plan.pk), dba, plan.operations.get().pk,
                                          sql="ALTER TABLE customers ADD COLUMN nick text",
                                          rollback_sql="ALTER TABLE customers DROP COLUMN nick")
            finally:
                connection.close()

        threads = [threading.Thread(target=review), threading.Thread(target=edit)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        plan.refresh_from_db()
        assert plan.status == PlanStatus.DRAFT
        assert not SignOff.objects.filter(plan=plan, voided=False).exists()
        assert not evaluate_gate(plan).satisfied
