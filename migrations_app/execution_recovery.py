"""What a DBA does with a partially applied plan: resume at the first operation not applied, or
roll back the applied ones. Both re-read the target's journal first (the app's record may be
what was lost), run after a confirmation page, and are DBA-only and audited.

A partially applied plan is never executed from the start again: ``workflow.reopen`` accepts
only failed and rejected plans, and a resume starts where the target says the work stopped.
"""

from __future__ import annotations

import dataclasses

from django.db import transaction

from migrations_app.engines.rollback import RollbackPlan, build_rollback_plan
from migrations_app.execution import queue_execution, resumable_gate
from migrations_app.execution_reconcile import Outcome, migration_outcome, read_target_record, resume_point
from migrations_app.models import Execution, MigrationPlan, PlanStatus
from migrations_app.permissions import can_pass_step_up, can_resume, can_roll_back_applied, require
from migrations_app.plan_sql import plan_operations
from migrations_app.workflow import WorkflowError
from targets.models import AuditEvent

S = Execution.Status


@dataclasses.dataclass
class Recovery:
    """What the confirmation page shows and what the POST re-checks."""
    execution: Execution
    outcome: Outcome
    operations: list
    resume_at: int | None           # operation index, None when a resume is impossible
    rollback_plan: RollbackPlan | None
    problem: str = ""               # why neither action may run now

    @property
    def applied_operations(self) -> list:
        return [(i, self.operations[i]) for i in self.outcome.applied]

    @property
    def remaining_operations(self) -> list:
        start = self.resume_at if self.resume_at is not None else len(self.operations)
        return [(i, self.operations[i]) for i in range(start, len(self.operations))]


def latest_run(plan: MigrationPlan) -> Execution | None:
    return plan.executions.filter(kind=Execution.Kind.MIGRATION).order_by("-queued_at", "-id").first()


def assess(execution: Execution) -> Recovery:
    """Read the target's journal for ``execution`` (a partially applied migration)."""
    operations = plan_operations(execution.plan)
    record = read_target_record(execution, operations)
    outcome = migration_outcome(execution, record, len(operations))
    recovery = Recovery(execution, outcome, operations, resume_point(outcome.applied, len(operations)), None)
    if execution.kind != Execution.Kind.MIGRATION or execution.status != S.PARTIALLY_APPLIED:
        recovery.problem = "only a partially applied migration is resumed or rolled back this way"
    elif execution.plan.status != PlanStatus.PARTIALLY_APPLIED:
        recovery.problem = f"the plan is {execution.plan.get_status_display().lower()}, not partially applied"
    elif latest_run(execution.plan) != execution:
        recovery.problem = "a later run of this plan exists: act on that one"
    elif not record.final:
        recovery.problem = (f"session(s) {', '.join(map(str, record.live_sessions))} of this execution are still "
                            "alive on the target: wait until they end")
    elif outcome.status != S.PARTIALLY_APPLIED:
        recovery.problem = (f"the target's journal says the outcome is {S(outcome.status).label.lower()}, "
                            f"not partially applied: {outcome.summary}")
    if not recovery.problem:
        recovery.rollback_plan = rollback_plan_for(execution, operations, outcome.applied)
    return recovery


def rollback_plan_for(execution: Execution, operations, applied: list[int]) -> RollbackPlan:
    """The rollback plan restricted to the applied operations: the run's stored plan when its
    worker finished (it carries the run's backups), else one built from the rollback SQL."""
    stored = execution.rollback_plan
    plan = RollbackPlan.from_dict(stored) if stored else build_rollback_plan(
        None, operations, [op.facts() for op in operations], preserve_data=False)
    keep = set(applied)
    plan.steps = [s for s in plan.steps if s.operation_index in keep]
    plan.backups = [b for b in plan.backups if b.operation_index in keep]
    plan.irreversible_operations = [d for d in plan.irreversible_operations if d.get("operation_index") in keep]
    if hasattr(plan, "data_unchecked"):
        plan.data_unchecked = [d for d in plan.data_unchecked if d.get("operation_index") in keep]
    plan.fully_reversible = not plan.irreversible_operations
    plan.schemas = plan.schemas or sorted({operations[i].schema for i in applied})
    plan.digest_before = first_run(execution).digest_before or plan.digest_before
    return plan


def first_run(execution: Execution) -> Execution:
    while execution.resume_of_id:
        execution = execution.resume_of
    return execution


def request_resume(execution: Execution, user) -> Execution:
    execution.refresh_from_db()  # the caller's copy may predate the run's end
    require(can_resume(user, execution))
    require(can_pass_step_up(user, "resume", execution))
    recovery = assess(execution)  # the target is read before any row is locked
    if recovery.problem:
        raise WorkflowError(f"cannot resume: {recovery.problem}")
    if recovery.resume_at is None:
        raise WorkflowError("cannot resume: the applied operations are not a prefix of the plan "
                            f"({recovery.outcome.summary}); roll them back instead")
    with transaction.atomic():
        plan = MigrationPlan.objects.select_for_update().get(pk=execution.plan_id)
        ok, reason = resumable_gate(plan)
        if not ok:
            raise WorkflowError(f"cannot resume: {reason}")
        _still_partially_applied(plan, execution)
        resume = Execution.objects.create(
            plan=plan, user=user, sql_hash=plan.sql_hash, resume_of=execution, start_operation=recovery.resume_at,
            committed_operations=recovery.outcome.applied,
            progress={"done": recovery.resume_at, "total": len(recovery.operations)})
        AuditEvent.record(user, "execution.resume_queued", resume, data={
            "plan": plan.pk, "resume_of": execution.pk, "start_operation": recovery.resume_at,
            "applied": recovery.outcome.applied, "derived_from": "target journal"})
        queue_execution("execute_plan", resume.pk)
    return resume


def request_rollback_of_applied(execution: Execution, user) -> Execution:
    execution.refresh_from_db()
    require(can_roll_back_applied(user, execution))
    require(can_pass_step_up(user, "roll_back_applied", execution))
    recovery = assess(execution)
    if recovery.problem:
        raise WorkflowError(f"cannot roll back: {recovery.problem}")
    with transaction.atomic():
        plan = MigrationPlan.objects.select_for_update().get(pk=execution.plan_id)
        _still_partially_applied(plan, execution)
        steps = recovery.rollback_plan.to_dict()
        rollback = Execution.objects.create(
            plan=plan, kind=Execution.Kind.ROLLBACK, rollback_of=execution, user=user, sql_hash=plan.sql_hash,
            rollback_plan_to_run=steps, progress={"done": 0, "total": len(steps["steps"])})
        AuditEvent.record(user, "execution.rollback_queued", rollback, data={
            "plan": plan.pk, "rollback_of": execution.pk, "applied": recovery.outcome.applied,
            "derived_from": "target journal"})
        queue_execution("rollback_execution", rollback.pk)
    return rollback


def _still_partially_applied(plan: MigrationPlan, execution: Execution) -> None:
    execution.refresh_from_db()
    if plan.status != PlanStatus.PARTIALLY_APPLIED or execution.status != S.PARTIALLY_APPLIED:
        raise WorkflowError("the plan changed meanwhile: reload the page")
    if plan.executions.filter(status__in=Execution.ACTIVE).exists():
        raise WorkflowError("an execution of this plan is already queued or running")
    if latest_run(plan) != execution:
        raise WorkflowError("a later run of this plan exists: act on that one")
