"""Executing a plan in the app: start, run (django-q2 task body), roll back, emergency stop,
and the monitor that catches executions running too long or whose worker died.

Outcome rules (documented in the README runbook map too):
- success                                  -> execution SUCCEEDED, plan SUCCEEDED
- a failure inside a transaction, nothing committed before it
                                           -> FAILED, rollback_executed=True, digest unchanged
- a failure after committed steps (autocommit statements such as CREATE INDEX CONCURRENTLY)
  whose compensation (rollback_sql in reverse) completed
                                           -> ROLLED_BACK
- compensation failed or incomplete (missing rollback SQL)
                                           -> ROLLBACK_FAILED (CRITICAL incident)
- committed steps left in place without compensation (lock lost, a resume that failed, a
  journal write that failed after its statement committed)
                                           -> PARTIALLY_APPLIED: resume or roll back the
                                              applied operations (``execution_recovery``)
A worker lost mid-run is reconciled from the target's journal (``execution_reconcile``).
Every failure opens an incident; every state change writes an audit event. The plan moves only
through ``workflow.transition`` (compare-and-set); the Execution row has its own compare-and-set
on ``status`` so a second delivery of a task does nothing.
"""

from __future__ import annotations

import os
import socket
import time
from contextlib import ExitStack

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from migrations_app.engines.catalog import query
from migrations_app.engines.execution import AtomicMigrationExecutor, MigrationLockManager, MigrationLockTimeout
from migrations_app.engines.rollback import RollbackPlan
from migrations_app.data_backup import typed_confirmation_required
from migrations_app.execution_progress import ProgressRecorder
from migrations_app.gate import current_review_version, evaluate_gate, executable
from migrations_app.incidents import open_incident, queue_alert
from migrations_app.models import Execution, Incident, MigrationPlan, PlanStatus, Severity
from migrations_app.permissions import can_emergency_stop, can_execute, can_pass_step_up, can_roll_back, require
from migrations_app.plan_sql import plan_operations
from migrations_app.review_version import compute_sql_hash
from migrations_app.signals import execution_finished
from migrations_app.workflow import WorkflowError, transition
from targets.jobs import enqueue_on_commit
from targets.models import AuditEvent

S = Execution.Status
FT = Incident.FailureType


# Starting -----------------------------------------------------------------------------------

STALE_EXECUTE_PAGE = ("This page showed an earlier version of the plan: its SQL, rollback SQL, target or analysis "
                      "changed since. Nothing was run. Read the current version and execute again.")


def schema_busy(plan: MigrationPlan) -> str:
    """Why no execution of ``plan`` may start now because another plan's execution is queued or
    running on the same target and schema ("" when none is): one migration per schema at a time.
    The worker's migration lock enforces it anyway; this says so at the button, before the plan
    is moved to EXECUTING and then failed for want of the lock."""
    busy = (Execution.objects.filter(plan__target_id=plan.target_id, plan__schema=plan.schema, status__in=Execution.ACTIVE)
            .exclude(plan_id=plan.pk).select_related("plan", "user").order_by("pk").first())
    if busy is None:
        return ""
    who = f" by {busy.user.username}" if busy.user else ""
    return (f"{busy.get_kind_display().lower()} #{busy.pk} of \u201c{busy.plan.title}\u201d{who} is "
            f"{busy.get_status_display().lower()} on {plan.target.name}, schema {plan.schema}: one migration per "
            "schema at a time. Nothing was run; execute again when it has finished")


def start_execution(plan: MigrationPlan, user, *, typed_confirmation: str | None = None,
                    version: str | None = None) -> Execution:
    """"Execute": a DBA, the gate passes now (and again in the task). Queues the task on commit.
    A plan that changes data on a production target needs the target's name typed exactly.
    ``version``: the review version the confirmation page showed (its form sends it); a page
    that showed another version is refused, whatever the plan's state now (an author's edit and
    a new analysis may have approved other SQL meanwhile)."""
    with transaction.atomic():
        locked = MigrationPlan.objects.select_for_update().get(pk=plan.pk)
        allowed = can_execute(user, locked)
        if allowed.forbidden:
            require(allowed)
        if version is not None and version != current_review_version(locked):
            raise WorkflowError(STALE_EXECUTE_PAGE)
        require(allowed)
        if busy := schema_busy(locked):  # said before any authenticator code is asked for
            raise WorkflowError(f"cannot execute: {busy}")
        require(can_pass_step_up(user, "execute", locked))
        ok, reason = executable(locked)
        if not ok:
            raise WorkflowError(f"cannot execute: {reason}")
        if typed_confirmation_required(locked) and (typed_confirmation or "").strip() != locked.target.name:
            raise WorkflowError(f"this plan changes data on the production target {locked.target.name}: "
                                "type the target's name exactly to confirm")
        execution = Execution.objects.create(plan=locked, user=user, sql_hash=locked.sql_hash,
                                             progress={"done": 0, "total": locked.operations.count()})
        AuditEvent.record(user, "execution.queued", execution, data={
            "plan": plan.pk, "sql_hash": locked.sql_hash, "typed_confirmation": typed_confirmation_required(locked)})
        queue_execution("execute_plan", execution.pk)
    return execution


def request_rollback(execution: Execution, user) -> Execution:
    """"Roll back" a succeeded execution with the rollback plan stored from its run."""
    with transaction.atomic():
        plan = MigrationPlan.objects.select_for_update().get(pk=execution.plan_id)
        execution.refresh_from_db()
        execution.plan = plan  # the locked row, read after the lock
        require(can_roll_back(user, execution))
        require(can_pass_step_up(user, "roll_back", execution))
        if not execution.rollback_plan:
            raise WorkflowError("this execution stored no rollback plan")
        if plan.executions.filter(status__in=Execution.ACTIVE).exists():
            raise WorkflowError("an execution of this plan is already queued or running")
        rollback = Execution.objects.create(plan=plan, kind=Execution.Kind.ROLLBACK, rollback_of=execution, user=user,
                                            sql_hash=plan.sql_hash,
                                            progress={"done": 0, "total": len(execution.rollback_plan.get("steps", []))})
        AuditEvent.record(user, "execution.rollback_queued", rollback, data={"plan": plan.pk, "rollback_of": execution.pk})
        queue_execution("rollback_execution", rollback.pk)
    return rollback


def queue_execution(task: str, execution_id: int) -> None:
    enqueue_on_commit(f"migrations_app.tasks.{task}", execution_id, name=task, group="executions")


# Running (task bodies) ----------------------------------------------------------------------

def _claim(execution_id: int) -> Execution | None:
    worker = f"{socket.gethostname()}:{os.getpid()}"
    execution = Execution.objects.select_related("plan__target", "user", "rollback_of").get(pk=execution_id)
    if not execution.claim(heartbeat_at=timezone.now(), worker=worker,
                           application_name=f"dataflow-exec-{execution_id}"):
        return None
    AuditEvent.record(None, "execution.started", execution, data={"worker": worker})
    return execution


def _refuse(execution: Execution, reason: str) -> str:
    execution.finish(S.REFUSED, error=reason)
    AuditEvent.record(None, "execution.refused", execution, data={"reason": reason})
    return "refused"


def build_executor(execution: Execution) -> AtomicMigrationExecutor:
    target = execution.plan.target.connection()
    owner = f"execution {execution.pk} by {getattr(execution.user, 'username', 'system')}"
    return AtomicMigrationExecutor(
        target, lock_timeout_ms=settings.DATAFLOW_EXEC_LOCK_TIMEOUT_MS,
        statement_timeout_ms=(execution.plan.statement_timeout_seconds * 1000 if execution.plan.statement_timeout_seconds
                              else settings.DATAFLOW_EXEC_STATEMENT_TIMEOUT_MS),
        idle_in_transaction_timeout_ms=settings.DATAFLOW_EXEC_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        max_attempts=settings.DATAFLOW_EXEC_MAX_ATTEMPTS, lock_wait_seconds=settings.DATAFLOW_EXEC_LOCK_WAIT_SECONDS,
        lock_manager=MigrationLockManager(target, owner=owner), application_name=application_name(execution),
        search_path=execution.plan.schema, backup_max_bytes=settings.DATAFLOW_BACKUP_MAX_BYTES,
        snapshot_after=True)  # the drift ledger's snapshot, from the digest read after the run


def resumable_gate(plan: MigrationPlan) -> tuple[bool, str]:
    """A resume re-checks the sign-off gate as Execute does, on a partially applied plan."""
    if plan.status != PlanStatus.PARTIALLY_APPLIED:
        return False, f"the plan is {plan.get_status_display().lower()}, not partially applied"
    gate = evaluate_gate(plan)
    return (True, "") if gate.satisfied else (False, gate.explain())


def application_name(execution: Execution) -> str:
    return f"dataflow-exec-{execution.pk}"


def run_execution(execution_id: int) -> str:
    """The ``execute_plan`` task: APPROVED -> EXECUTING -> SUCCEEDED / FAILED / ROLLED_BACK / ROLLBACK_FAILED."""
    execution = _claim(execution_id)
    if execution is None:
        return "already taken"
    plan = execution.plan
    resuming = execution.resume_of_id is not None
    # the gate again: sign-offs may have been voided since "Execute" (a resume: since the first run)
    ok, reason = (resumable_gate(plan) if resuming else executable(plan))
    if not ok:
        return _refuse(execution, f"gate re-check failed: {reason}")
    if plan.sql_hash != execution.sql_hash:
        return _refuse(execution, "the plan's SQL changed after Execute was pressed")
    operations = plan_operations(plan)  # exactly the rows hashed here are the rows that run
    if compute_sql_hash(operations) != execution.sql_hash:
        return _refuse(execution, "the stored operations do not match the SQL that was reviewed "
                                  "(changed outside the app)")
    if not transition(plan, [PlanStatus.PARTIALLY_APPLIED if resuming else PlanStatus.APPROVED],
                      PlanStatus.EXECUTING, None, "plan.execution_resumed" if resuming else "plan.execution_started",
                      {"execution": execution.pk, "start_operation": execution.start_operation}):
        return _refuse(execution, "the plan was no longer partially applied" if resuming
                       else "the plan was no longer approved")
    executor = build_executor(execution)
    executor.start_connecting()  # the target forks the executing session while the plan is parsed
    try:
        schemas = sorted({op.schema for op in operations}
                         | {d.schema for op in operations for d in op.facts().destroyed})
    except Exception as exc:  # a statement pglast cannot parse: nothing ran
        executor.discard_session()
        return _finish(execution, None, error=f"cannot prepare the migration: {exc}")
    return _run_locked(execution, executor, schemas,
                       lambda locks, progress: executor.execute_atomic_migration(
                           operations, progress=progress, lock=locks, journal_key=execution.journal_key,
                           start_at=execution.start_operation),
                       operations=operations)


def run_rollback(execution_id: int) -> str:
    """The ``rollback_execution`` task: SUCCEEDED -> EXECUTING -> ROLLED_BACK / ROLLBACK_FAILED."""
    execution = _claim(execution_id)
    if execution is None:
        return "already taken"
    plan = execution.plan
    undoing = execution.rollback_of
    from_status = PlanStatus.PARTIALLY_APPLIED if undoing.status == S.PARTIALLY_APPLIED else PlanStatus.SUCCEEDED
    if not transition(plan, [from_status], PlanStatus.EXECUTING, None, "plan.rollback_started",
                      {"execution": execution.pk, "rollback_of": execution.rollback_of_id}):
        return _refuse(execution, f"the plan is no longer {from_status.label.lower()}")
    rollback_plan = RollbackPlan.from_dict(execution.stored_rollback_plan)
    executor = build_executor(execution)
    executor.start_connecting()  # while the locks are taken
    schemas = sorted(rollback_plan.schemas or {plan.schema})
    return _run_locked(execution, executor, schemas,
                       lambda locks, progress: executor.execute_rollback_plan(
                           rollback_plan, progress=progress, lock=locks, journal_key=execution.journal_key))


def _run_locked(execution: Execution, executor, schemas, run, operations=None) -> str:
    try:
        return _locked(execution, executor, schemas, run, operations)
    finally:
        executor.discard_session()  # a session opened ahead that no run took (lock timeout, error)


def _locked(execution: Execution, executor, schemas, run, operations=None) -> str:
    manager = executor.lock_manager
    result = None
    try:
        with ExitStack() as stack:
            locks = [stack.enter_context(manager.migration_lock(
                schema, timeout=executor.lock_wait_seconds,
                lock_data={"execution": execution.pk, "plan": execution.plan_id})) for schema in schemas]
            execution.lock_holder = ", ".join(f"{lock.schema}: {lock.holder_process_id}" for lock in locks)
            execution.lock_schemas = schemas
            # the digest before is the executor's own read (on the lock session), written by the
            # recorder from its "digest_before" event before the first statement runs
            execution.save(update_fields=["lock_holder", "lock_schemas"])
            recorder = ProgressRecorder(execution, operations, on_stop=lambda: [manager.release_migration_lock(s)
                                                                               for s in schemas])
            try:
                result = run(locks, recorder)
            finally:
                recorder.close(flush=result is None)
            # finished while still holding the lock: the monitor never sees a free lock on a RUNNING row;
            # a lost app-database connection is re-opened rather than let the finish fall through
            # to "failed" below while the target says the work committed
            return _with_app_database(lambda: _finish(execution, result))
    except MigrationLockTimeout as exc:
        return _with_app_database(lambda: _finish(execution, None, error=str(exc), failure_type=FT.LOCK_TIMEOUT))
    except Exception as exc:  # cannot connect, catalog error: the message is safe to show
        if result is not None:
            # the run happened and its outcome could not be written: the row stays RUNNING, the
            # lock is free, and the monitor records what the target's journal shows
            raise
        return _with_app_database(lambda: _finish(execution, None, error=f"{type(exc).__name__}: {exc}"))


def _with_app_database(write, attempts: int = 5, pause: float = 1.0):
    """Run ``write`` (Django ORM work), re-opening the app-database connection when it was lost
    (the server terminated the session, a failover): the outcome must not be dropped for that."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except DatabaseError:
            if attempt == attempts or connection.in_atomic_block:
                raise
            connection.close()
            close_old_connections()
            time.sleep(pause)


# Finishing ----------------------------------------------------------------------------------

def _finish(execution: Execution, result, *, error: str = "", failure_type: str = "") -> str:
    """The outcome, its audit events, the plan's move, the incident or alert: one transaction,
    all or nothing (and one commit instead of eight on the worker's path); what follows the
    commit (the ledger entry, queued tasks) runs after it."""
    with transaction.atomic():
        return _record_outcome(execution, result, error=error, failure_type=failure_type)


def _record_outcome(execution: Execution, result, *, error: str, failure_type: str) -> str:
    # the log as written so far only matters when the run gave no result (the result's replaces it)
    execution.refresh_from_db(fields=["stop_requested_at", "stop_requested_by", "digest_before",
                                      *(["statement_log"] if result is None else [])])
    rollback = execution.kind == Execution.Kind.ROLLBACK
    data = result.to_dict() if result is not None else None
    # the statement log is stored once, in its own field (the pages and the API read it there)
    fields = {"result": {k: v for k, v in data.items() if k != "statement_log"} if data is not None else None}
    if result is not None:
        error = result.error_message or ""
        fields.update(statement_log=data["statement_log"], rollback_executed=result.rollback_executed,
                      rows_modified=result.rows_modified, sqlstate=result.sqlstate or "",
                      digest_after=result.digest_after or "", backend_pid=result.backend_pid, verified=result.verified,
                      progress={**execution.progress, "done": result.operations_completed, "current": None})
        if result.schema_diff is not None:
            fields["schema_diff"] = {"reference": result.schema_diff_reference, **result.schema_diff}
        if result.digest_before and not execution.digest_before:
            fields["digest_before"] = result.digest_before
        if rollback:
            fields.update(schema_verified=result.schema_verified, data_verified=result.data_verified,
                          data_verification=result.data_verification)
    stopped = execution.stop_requested_at is not None
    total = execution.plan.operations.count() if not rollback else None
    applied, compensating = _applied(execution, result, total)
    if not rollback:
        fields["committed_operations"] = applied
    if result is not None and result.success and rollback and not result.verified:
        # every step ran, yet the schema or the data is not back as it was: not "rolled back"
        status, plan_to, failure_type = S.FAILED, PlanStatus.ROLLBACK_FAILED, FT.ROLLBACK_FAILED
        error = f"Rollback incomplete: {rollback_verdict(result.schema_verified, result.data_verification)}."
    elif result is not None and result.success:
        status, plan_to = S.SUCCEEDED, (PlanStatus.ROLLED_BACK if rollback else PlanStatus.SUCCEEDED)
    elif rollback and result is not None and result.operations_completed == 0:
        # no rollback step committed: the plan is exactly as it was before the rollback
        status, failure_type = S.FAILED, FT.ROLLBACK_FAILED
        plan_to = (PlanStatus.PARTIALLY_APPLIED if execution.rollback_of.status == S.PARTIALLY_APPLIED
                   else PlanStatus.SUCCEEDED)
    elif rollback:
        status, plan_to, failure_type = S.FAILED, PlanStatus.ROLLBACK_FAILED, FT.ROLLBACK_FAILED
    elif result is not None and applied and len(applied) == total:
        status, plan_to = S.SUCCEEDED, PlanStatus.SUCCEEDED  # the error came after the last COMMIT
    elif result is not None and applied and (not compensating or result.rollback_complete is True):
        status, plan_to = S.PARTIALLY_APPLIED, PlanStatus.PARTIALLY_APPLIED
        failure_type = FT.EMERGENCY_STOP if stopped else FT.EXECUTION_FAILED
    elif result is not None and result.rollback_complete is False:
        status, plan_to, failure_type = S.ROLLBACK_FAILED, PlanStatus.ROLLBACK_FAILED, FT.ROLLBACK_FAILED
    elif result is not None and result.rollback_complete is True:
        status, plan_to = S.ROLLED_BACK, PlanStatus.ROLLED_BACK
        failure_type = FT.EMERGENCY_STOP if stopped else FT.COMPENSATED
    else:
        status, plan_to = S.FAILED, PlanStatus.FAILED
        if stopped:
            failure_type = FT.EMERGENCY_STOP
        elif result is not None and result.sqlstate in ("55P03", "40P01"):
            failure_type = FT.LOCK_TIMEOUT
        failure_type = failure_type or FT.EXECUTION_FAILED
    if stopped and status != S.SUCCEEDED:
        who = execution.stop_requested_by.username if execution.stop_requested_by else "someone"
        error = f"Emergency stop by {who}. {error}".strip()
    if not execution.finish(status, error=error, failure_type="" if status == S.SUCCEEDED else failure_type,
                            **fields):
        return "already finished"  # the monitor declared the worker lost first
    execution_finished.send(Execution, execution_id=execution.pk,
                            snapshot=getattr(result, "snapshot_after", None))
    verb = f"execution.{status.lower()}"
    AuditEvent.record(None, verb, execution, data={
        "plan": execution.plan_id, "error": error[:500], "rollback_executed": execution.rollback_executed,
        "digest_before": execution.digest_before, "digest_after": execution.digest_after,
        "verified": execution.verified, "schema_verified": execution.schema_verified,
        "data_verified": execution.data_verified})
    transition(execution.plan, [PlanStatus.EXECUTING], plan_to, None, f"plan.{plan_to.lower()}",
               {"execution": execution.pk, "error": error[:500]})
    if status == S.SUCCEEDED:
        if rollback and not (execution.schema_verified and execution.data_verified is not False):
            # a rollback whose result is not verified is something to look into
            open_incident(execution, FT.ROLLBACK, _rollback_summary(execution))
        elif rollback:
            # requested and verified: the success it is, not an incident
            queue_alert(Severity.INFO, f"Rollback succeeded: {execution.plan.title}",
                        f"{execution.plan.title} on {execution.plan.target.name}: {_rollback_summary(execution)}",
                        execution=execution)
        else:
            queue_alert(Severity.INFO, f"Migration succeeded: {execution.plan.title}",
                        f"{execution.plan.title} on {execution.plan.target.name}: "
                        f"{execution.progress.get('done')} operation(s), {execution.rows_modified} row(s).",
                        execution=execution)
    else:
        open_incident(execution, failure_type, error or "the execution failed")
    return status.lower()


def _applied(execution: Execution, result, total: int | None) -> tuple[list[int], bool]:
    """Operations applied on the target after this run (a resume's earlier ones included), from
    the engine's own per-segment record, and whether compensation ran."""
    applied = set(range(execution.start_operation))
    if result is None or execution.kind != Execution.Kind.MIGRATION:
        return sorted(applied), False
    if result.success:
        return list(range(total)), False
    applied |= set(range(execution.start_operation, result.operations_completed))
    applied -= set(result.compensated_operations)
    compensating = any(e.phase == "compensation" for e in result.statement_log)
    return sorted(applied), compensating


def _rollback_summary(execution: Execution) -> str:
    return (f"Rollback of execution #{execution.rollback_of_id} completed: "
            f"{rollback_verdict(execution.schema_verified, execution.data_verification)}.")


def rollback_verdict(schema_verified: bool | None, data_verification: dict | None) -> str:
    """Schema and data, each said for what it is; "verified" only for what was checked."""
    schema = {True: "schema verified (the digest equals the one before the migration)",
              False: "schema NOT verified (the digest differs from the one before the migration)",
              None: "schema not verified (no digest to compare)"}[schema_verified]
    data = (data_verification or {}).get("summary") or "data not checked"
    return f"{schema}; {data}"


# Emergency stop -------------------------------------------------------------------------------

def emergency_stop(execution: Execution, user) -> dict:
    """Cancel the executing backend (its transaction rolls back). The task then ends the plan
    FAILED with an incident; statements not started yet never run (the recorder sees the flag)."""
    require(can_emergency_stop(user))  # who; the state is the compare-and-set below
    now = timezone.now()
    if execution.finish(S.FAILED, from_statuses=[S.QUEUED], stop_requested_at=now, stop_requested_by=user,
                        error=f"Emergency stop by {user.username} before it started", failure_type=FT.EMERGENCY_STOP):
        execution.refresh_from_db()
        AuditEvent.record(user, "execution.emergency_stop", execution, data={"state": "queued"})
        transition(execution.plan, [PlanStatus.APPROVED, PlanStatus.EXECUTING], PlanStatus.FAILED, user,
                   "plan.failed", {"execution": execution.pk, "error": "emergency stop before start"})
        open_incident(execution, FT.EMERGENCY_STOP, execution.error, actor=user)
        return {"cancelled": False, "state": "queued"}
    if not Execution.objects.filter(pk=execution.pk, status=S.RUNNING, stop_requested_at__isnull=True).update(
            stop_requested_at=now, stop_requested_by=user):
        raise WorkflowError("this execution is not running (or a stop was already requested)")
    execution.refresh_from_db()
    outcome = {"cancelled": False, "backend_pid": execution.backend_pid}
    if execution.backend_pid:
        try:
            with execution.plan.target.connection().connect(autocommit=True) as conn:
                row = conn.execute(query("exec_cancel_backend"), {
                    "pid": execution.backend_pid, "application_name": execution.application_name
                    or application_name(execution)}).fetchone()
            outcome["cancelled"] = bool(row and row[1])
        except Exception as exc:  # the stop flag still stops the next statement
            outcome["error"] = f"{type(exc).__name__}: {exc}"
    AuditEvent.record(user, "execution.emergency_stop", execution, data=outcome)
    return outcome
