"""Plan workflow: every state change is a compare-and-set on the status column plus exactly one
audit event, inside one transaction. Views call these functions and nothing else changes state.

DRAFT -> ANALYZING -> IN_REVIEW -> APPROVED -> EXECUTING -> SUCCEEDED
                  \\-> FAILED       \\-> REJECTED   \\-> FAILED / ROLLED_BACK / ROLLBACK_FAILED
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from migrations_app import permissions
from migrations_app.gate import current_analysis, evaluate_gate
from migrations_app.models import AnalysisRun, MigrationPlan, PlanOperation, PlanStatus, SignOff
from migrations_app.notifications import notify_author, notify_managers_awaiting_sign_off
# The plan states each action accepts, and WorkflowError, are the policy's; callers may name them here.
from migrations_app.permissions import ANALYSABLE, EDITABLE, SIGNABLE, WorkflowError, require
from migrations_app.plan_sql import ScriptError, check_operation_policy
from migrations_app.plan_versions import record_version
from migrations_app import report_store
from migrations_app.review_version import compute_analysis_digest, review_version
from migrations_app.staging_validation import latest_failed_rehearsal
from migrations_app.review_version import compute_sql_hash  # noqa: F401  (re-exported)
from targets.jobs import enqueue_on_commit
from targets.models import AuditEvent


# Hashing -----------------------------------------------------------------------------------



# Compare-and-set ----------------------------------------------------------------------------

def transition(plan: MigrationPlan, from_statuses, to_status: str, actor, verb: str, data=None, **fields) -> bool:
    """Move ``plan`` to ``to_status`` only if it is still in one of ``from_statuses``.
    Returns False (and changes nothing) when another request got there first."""
    with transaction.atomic():
        updated = MigrationPlan.objects.filter(pk=plan.pk, status__in=list(from_statuses)).update(
            status=to_status, updated_at=timezone.now(), **fields)
        if not updated:
            return False
        AuditEvent.record(actor, verb, plan, data={"from": plan.status, "to": to_status, **(data or {})})
    plan.refresh_from_db()
    return True


# Authoring ----------------------------------------------------------------------------------

def create_plan(author, *, target, title, schema="public", description="", operations=()) -> MigrationPlan:
    """``operations``: dicts with type, schema_name, table, column, sql, rollback_sql, rollback_note, line."""
    require(permissions.can_create_plan(author))
    with transaction.atomic():
        plan = MigrationPlan.objects.create(author=author, target=target, title=title, schema=schema,
                                            description=description)
        ops = [PlanOperation(plan=plan, position=i + 1, **op) for i, op in enumerate(operations)]
        _check_policy(ops, schema)
        PlanOperation.objects.bulk_create(ops)
        plan.sql_hash = compute_sql_hash(ops)
        plan.save(update_fields=["sql_hash"])
        record_version(plan, author, "plan.created", ops)
        AuditEvent.record(author, "plan.created", plan,
                          data={"target": target.name, "operations": len(ops), "sql_hash": plan.sql_hash})
    return plan


def change_operations(plan: MigrationPlan, user, verb: str, mutate, data=None) -> MigrationPlan:
    """Apply ``mutate(plan)`` to the operations, then: new sql_hash, every sign-off voided, back to
    DRAFT, one audit event. Locks the plan row so a concurrent approval cannot interleave."""
    require(permissions.can_edit_plan_details(user, plan))  # who, before any lock; the state on the locked row
    with transaction.atomic():
        locked = MigrationPlan.objects.select_for_update().get(pk=plan.pk)
        require(permissions.can_edit_plan(user, locked))
        mutate(locked)
        _renumber(locked)
        ops = list(locked.operations.all())
        _check_policy(ops, locked.schema)
        new_hash = compute_sql_hash(ops)
        voided = SignOff.objects.filter(plan=locked, voided=False).update(
            voided=True, voided_reason=f"operations changed ({verb})")
        previous = locked.status
        MigrationPlan.objects.filter(pk=locked.pk).update(
            status=PlanStatus.DRAFT, sql_hash=new_hash, risk_level="", risk_score=None, updated_at=timezone.now())
        locked.sql_hash = new_hash
        version = record_version(locked, user, verb, ops)
        AuditEvent.record(user, verb, locked, data={"version": version.number,
            "from": previous, "to": PlanStatus.DRAFT, "sql_hash": new_hash, "sign_offs_voided": voided,
            **(data or {})})
    plan.refresh_from_db()
    return plan


def _check_policy(ops, schema: str) -> None:
    """The statement policy on every stored operation, whatever route wrote it (form, mitigation
    copy, API): a refused statement never reaches the database, and the transaction rolls back."""
    for op in ops:
        try:
            check_operation_policy(op.sql, op.rollback_sql, op.schema_name or schema)
        except ScriptError as exc:
            raise WorkflowError(f"operation {op.position}: {exc}") from None


def _renumber(plan: MigrationPlan) -> None:
    ops = list(plan.operations.order_by("position", "id"))
    changed = []
    for index, op in enumerate(ops, start=1):
        if op.position != index:
            op.position = index
            changed.append(op)
    PlanOperation.objects.bulk_update(changed, ["position"])


def add_operation(plan, user, **fields) -> MigrationPlan:
    def mutate(p):
        last = p.operations.aggregate(m=Max("position"))["m"] or 0
        PlanOperation.objects.create(plan=p, position=last + 1, **fields)
    return change_operations(plan, user, "plan.operation_added", mutate, {"type": fields.get("type"), "sql": fields.get("sql", "")[:200]})


def add_operations(plan, user, operations: list[dict], *, at_start: bool = False) -> MigrationPlan:
    """Several operations in one change; ``at_start`` puts them before the existing ones, in order
    (a backup or a timeout guard only helps when it runs before the statements it protects)."""
    def mutate(p):
        if at_start:
            p.operations.update(position=F("position") + len(operations))
            start = 1
        else:
            start = (p.operations.aggregate(m=Max("position"))["m"] or 0) + 1
        PlanOperation.objects.bulk_create(
            [PlanOperation(plan=p, position=start + i, **op) for i, op in enumerate(operations)])
    return change_operations(plan, user, "plan.operation_added", mutate, {
        "count": len(operations), "at_start": at_start, "sql": "; ".join(op.get("sql", "") for op in operations)[:200]})


def update_operation(plan, user, operation_id: int, **fields) -> MigrationPlan:
    def mutate(p):
        if not p.operations.filter(pk=operation_id).update(**fields):
            raise WorkflowError("that operation is not part of this plan")
    return change_operations(plan, user, "plan.operation_changed", mutate, {"operation": operation_id})


def remove_operation(plan, user, operation_id: int) -> MigrationPlan:
    def mutate(p):
        deleted, _ = p.operations.filter(pk=operation_id).delete()
        if not deleted:
            raise WorkflowError("that operation is not part of this plan")
    return change_operations(plan, user, "plan.operation_removed", mutate, {"operation": operation_id})


def move_operation(plan, user, operation_id: int, direction: int) -> MigrationPlan:
    def mutate(p):
        ops = list(p.operations.order_by("position", "id"))
        index = next((i for i, op in enumerate(ops) if op.pk == operation_id), None)
        if index is None:
            raise WorkflowError("that operation is not part of this plan")
        other = index + direction
        if not 0 <= other < len(ops):
            raise WorkflowError("the operation is already at that end of the plan")
        ops[index].position, ops[other].position = ops[other].position, ops[index].position
        if ops[index].position == ops[other].position:  # equal positions after a bad import
            ops[index].position += direction
        PlanOperation.objects.bulk_update([ops[index], ops[other]], ["position"])
    return change_operations(plan, user, "plan.operation_moved", mutate,
                             {"operation": operation_id, "direction": "up" if direction < 0 else "down"})


def replace_operations(plan, user, operations: list[dict]) -> MigrationPlan:
    def mutate(p):
        p.operations.all().delete()
        PlanOperation.objects.bulk_create([PlanOperation(plan=p, position=i + 1, **op) for i, op in enumerate(operations)])
    return change_operations(plan, user, "plan.sql_replaced", mutate, {"operations": len(operations)})


def update_details(plan, user, *, title: str, description: str, statement_timeout_seconds=None) -> MigrationPlan:
    """Title and description do not change what runs: no new hash, sign-offs stay. The statement
    timeout does change what runs: it is reviewed like the SQL (sign-offs voided, back to DRAFT)."""
    require(permissions.can_edit_plan_details(user, plan))
    with transaction.atomic():
        locked = MigrationPlan.objects.select_for_update().get(pk=plan.pk)
        MigrationPlan.objects.filter(pk=plan.pk).update(title=title, description=description, updated_at=timezone.now())
        AuditEvent.record(user, "plan.details_changed", plan, data={"title": title})
        if statement_timeout_seconds != locked.statement_timeout_seconds:
            require(permissions.can_edit_plan(user, locked))
            voided = SignOff.objects.filter(plan=locked, voided=False).update(
                voided=True, voided_reason="statement timeout changed")
            MigrationPlan.objects.filter(pk=plan.pk).update(
                statement_timeout_seconds=statement_timeout_seconds, status=PlanStatus.DRAFT)
            AuditEvent.record(user, "plan.statement_timeout_changed", plan, data={
                "from": locked.statement_timeout_seconds, "to": statement_timeout_seconds,
                "status_from": locked.status, "sign_offs_voided": voided})
    plan.refresh_from_db()
    return plan


# Checklist ----------------------------------------------------------------------------------

CHECKLIST_FIELDS = ("backup_completed", "backup_verified", "rto_confirmed", "rpo_confirmed")


def tick_checklist(plan: MigrationPlan, user, values: dict) -> MigrationPlan:
    require(permissions.can_tick_checklist(user, plan))
    changes = {f: bool(values.get(f)) for f in CHECKLIST_FIELDS}
    with transaction.atomic():
        MigrationPlan.objects.filter(pk=plan.pk).update(checklist_by=user, checklist_at=timezone.now(), **changes)
        AuditEvent.record(user, "plan.checklist_updated", plan, data=changes)
    plan.refresh_from_db()
    refresh_approval(plan, user)
    return plan


# Analysis -----------------------------------------------------------------------------------

def request_analysis(plan: MigrationPlan, user) -> AnalysisRun:
    plan.refresh_from_db()  # the caller's copy may predate the last analysis
    require(permissions.can_analyse(user, plan))
    if not plan.operations.exists():
        raise WorkflowError("the plan has no operations to analyse")
    with transaction.atomic():
        if not transition(plan, ANALYSABLE, PlanStatus.ANALYZING, user, "plan.analysis_requested",
                          {"sql_hash": plan.sql_hash}):
            raise WorkflowError(f"a plan that is {plan.get_status_display().lower()} cannot be analysed now")
        run = AnalysisRun.objects.create(plan=plan, sql_hash=plan.sql_hash, requested_by=user)
        enqueue_on_commit("migrations_app.tasks.run_plan_analysis", run.pk, name="analysis", group="analysis")
    return run


def finish_analysis(run: AnalysisRun, report: dict | None, error: str = "") -> None:
    """Store the outcome; move the plan only if it still is the SQL that was analysed."""
    plan = run.plan
    with transaction.atomic():
        if error:
            if not run.finish(AnalysisRun.Status.FAILED, error=error):
                return  # another delivery finished it: its outcome stands
            transition(plan, [PlanStatus.ANALYZING], PlanStatus.FAILED, None, "plan.analysis_failed",
                       {"analysis": run.pk, "error": error[:500]})
            return
        risk = report.get("risk") or {}
        level, score = risk.get("risk_level", ""), risk.get("overall_score")
        current = MigrationPlan.objects.filter(pk=plan.pk, sql_hash=run.sql_hash).exists()
        status = AnalysisRun.Status.SUCCEEDED if current else AnalysisRun.Status.STALE
        if not run.finish(status, report=report, risk_level=level, risk_score=score):
            return
        store_summary_and_digest(run)
        if not current:
            return
        moved = transition(plan, [PlanStatus.ANALYZING], PlanStatus.IN_REVIEW, None, "plan.analysed",
                           {"analysis": run.pk, "risk_level": level, "risk_score": score},
                           risk_level=level, risk_score=score)
    if moved:
        plan.refresh_from_db()
        if not refresh_approval(plan, None) and permissions.needs_manager(level):
            transaction.on_commit(lambda: notify_managers_awaiting_sign_off(plan))


def store_summary_and_digest(run: AnalysisRun) -> None:
    """Store what pages read instead of the whole report (``report_store``): its summary and the
    analysis digest, both made of the report as stored (read back, as every later read sees it)."""
    run.refresh_from_db(fields=["sql_hash", "target_identity", "risk_level", "risk_score"])
    stored = report_store.stored_report(run)
    run.summary, run.digest = report_store.summarise(stored), compute_analysis_digest(run, stored)
    AnalysisRun.objects.filter(pk=run.pk).update(summary=run.summary, digest=run.digest)


# Sign-off -----------------------------------------------------------------------------------

STALE_PAGE = ("This page showed an earlier version of the plan: its SQL, rollback SQL, target or analysis "
              "changed since. Nothing was recorded. Review the current version and sign again.")


def sign_off(plan: MigrationPlan, user, decision: str, comment: str = "", *, version: str | None = None,
             acknowledge_failed_rehearsal: bool = False) -> SignOff:
    """Record a sign-off. Rules: nobody signs their own plan; DBAs review or reject; managers
    approve or reject; a rejection needs a comment; only plans in review (or approved) are signed.
    The sign-off binds the current review version; ``version`` is the one the signer's page
    showed (the review form always sends it) and must still be current. Approving a plan whose
    latest rehearsal of this SQL failed needs ``acknowledge_failed_rehearsal`` (recorded)."""
    plan.refresh_from_db()  # the caller's copy may predate the analysis that put it in review
    require(permissions.can_sign_off(user, plan, decision))
    role = permissions.sign_off_role(user, decision)
    comment = (comment or "").strip()
    if decision == SignOff.Decision.REJECT and not comment:
        raise WorkflowError("a rejection needs a comment for the author")
    with transaction.atomic():
        # A target edit locks the same plan rows; the target is read after the lock (a new
        # snapshot), so a repoint committed while we waited is seen.
        locked = MigrationPlan.objects.select_for_update().get(pk=plan.pk)
        require(permissions.can_sign_off(user, locked, decision))
        require(permissions.can_pass_step_up(user, "sign_off", locked, decision))
        analysis = current_analysis(locked)
        if analysis is None:
            raise WorkflowError("the plan has no analysis of its current SQL on its current target; analyse it first")
        current = review_version(locked, analysis)
        if version is not None and version != current:
            raise WorkflowError(STALE_PAGE)
        failed = latest_failed_rehearsal(locked) if decision == SignOff.Decision.APPROVE else None
        if failed is not None and not acknowledge_failed_rehearsal:
            raise WorkflowError(f"Nothing was recorded: rehearsal #{failed.pk} of this SQL failed. Read it, then "
                                "tick \"I approve despite the failed rehearsal\" to approve anyway.")
        identity = locked.target.connection_identity(locked.schema)
        record = SignOff.objects.create(plan=locked, user=user, role=role, decision=decision, comment=comment,
                                        sql_hash=locked.sql_hash, review_hash=current, target_identity=identity,
                                        analysis=analysis, risk_level=locked.risk_level)
        bound = {"sign_off": record.pk, "sql_hash": locked.sql_hash, "review_hash": current,
                 "analysis": analysis.pk, "target": identity}
        if decision == SignOff.Decision.REJECT:
            transition(locked, SIGNABLE, PlanStatus.REJECTED, user, "plan.rejected", {**bound, "comment": comment})
        else:
            acknowledged = {"acknowledged_failed_rehearsal": failed.pk} if failed is not None else {}
            AuditEvent.record(user, f"plan.signed_off.{decision}", locked,
                              data={**bound, "role": role, "comment": comment, **acknowledged})
    plan.refresh_from_db()
    moved = decision != SignOff.Decision.REJECT and refresh_approval(plan, user)
    if decision in (SignOff.Decision.REJECT, SignOff.Decision.APPROVE) or moved:
        transaction.on_commit(lambda: notify_author(plan, record))
    return record


# Target repointed -----------------------------------------------------------------------------

# Plans whose review a repointed target invalidates; EXECUTING is the executor's and left alone.
BACK_TO_DRAFT_ON_REPOINT = (PlanStatus.ANALYZING, PlanStatus.IN_REVIEW, PlanStatus.APPROVED)


def target_repointed(target, actor, changes: dict) -> list[int]:
    """The target's host, port, database or user changed: every sign-off of its open plans was
    given for another database. Void them, return plans in review or approved to DRAFT (their
    analysis was of the other database too), one audit event per plan. Call inside the
    transaction that saves the target. Returns the ids of the plans returned to DRAFT."""
    returned = []
    plans = MigrationPlan.objects.select_for_update().filter(target=target, status__in=EDITABLE).order_by("pk")
    for plan in plans:
        voided = SignOff.objects.filter(plan=plan, voided=False).update(
            voided=True, voided_reason="the target's connection changed")
        back = plan.status in BACK_TO_DRAFT_ON_REPOINT
        if back:
            MigrationPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.DRAFT, risk_level="", risk_score=None,
                                                            updated_at=timezone.now())
            returned.append(plan.pk)
        if back or voided:
            AuditEvent.record(actor, "plan.target_repointed", plan, data={
                "from": plan.status, "to": PlanStatus.DRAFT if back else plan.status,
                "sign_offs_voided": voided, "target": target.pk, "changes": changes})
    return returned


def refresh_approval(plan: MigrationPlan, actor) -> bool:
    """IN_REVIEW -> APPROVED once the gate is satisfied. Returns True if the plan moved."""
    plan.refresh_from_db()
    if plan.status != PlanStatus.IN_REVIEW:
        return False
    gate = evaluate_gate(plan)
    if not gate.satisfied:
        return False
    return transition(plan, [PlanStatus.IN_REVIEW], PlanStatus.APPROVED, actor, "plan.approved",
                      {"risk_level": gate.risk_level, "sql_hash": plan.sql_hash,
                       "requirements": [r.key for r in gate.requirements]})


def reopen(plan: MigrationPlan, user) -> MigrationPlan:
    """A rejected, failed or rolled-back plan goes back to its author as a draft."""
    require(permissions.can_edit_plan_details(user, plan))  # who; the state is the compare-and-set's
    if not transition(plan, permissions.REOPENABLE, PlanStatus.DRAFT, user, "plan.reopened"):
        raise WorkflowError("only a rejected, failed or rolled-back plan is reopened")
    return plan
