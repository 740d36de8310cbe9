"""The execution monitor (a django-q2 Schedule, every minute; created in migration 0004).

1. Duration limit: a RUNNING execution older than DATAFLOW_MIGRATION_DURATION_LIMIT_SECONDS
   opens one WARNING incident (compare-and-set on ``duration_alerted_at``).
2. Lost workers: a RUNNING execution whose migration lock is no longer held by it on the target
   had its worker die (kill -9, OOM, host lost) or lose its app-database connection for good.
   The task finishes while still holding the lock, so "RUNNING and lock free" can only mean the
   worker is gone. A free lock says nothing about what committed: the outcome is read from the
   target's journal (``execution_reconcile``) once no session of the execution is left there
   (a COMMIT sent just before the end may still land), and recorded with an incident.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from migrations_app.engines.execution import MigrationLockManager, schema_digest
from migrations_app.execution_reconcile import migration_outcome, read_target_record, rollback_outcome
from migrations_app.incidents import open_incident
from migrations_app.models import Execution, Incident, PlanStatus
from migrations_app.plan_sql import plan_operations
from migrations_app.workflow import transition
from targets.models import AuditEvent

S = Execution.Status
FT = Incident.FailureType
# A worker that claimed an execution but never took its lock (it died while connecting)
LOCKLESS_GRACE_SECONDS = 120


def monitor_executions(*, now=None) -> dict:
    now = now or timezone.now()
    report = {"over_limit": [], "worker_lost": [], "unknown": [], "waiting": []}
    limit = dt.timedelta(seconds=settings.DATAFLOW_MIGRATION_DURATION_LIMIT_SECONDS)
    for execution in Execution.objects.filter(status=S.RUNNING).select_related("plan__target"):
        if execution.started_at and now - execution.started_at > limit and execution.duration_alerted_at is None:
            if Execution.objects.filter(pk=execution.pk, duration_alerted_at__isnull=True).update(duration_alerted_at=now):
                minutes = (now - execution.started_at).total_seconds() / 60
                open_incident(execution, FT.DURATION_EXCEEDED,
                              f"Running for {minutes:.1f} min, over the limit of {limit.total_seconds() / 60:g} min.")
                report["over_limit"].append(execution.pk)
        try:
            lost = worker_lost(execution, now)
        except Exception as exc:  # target unreachable: unknown, never guessed to be dead
            report["unknown"].append({"execution": execution.pk, "error": f"{type(exc).__name__}: {exc}"})
            continue
        if not lost:
            continue
        try:
            marked = mark_worker_lost(execution, lost)
        except Exception as exc:  # the target's record could not be read: decide nothing
            report["unknown"].append({"execution": execution.pk, "error": f"{type(exc).__name__}: {exc}"})
            continue
        report["worker_lost" if marked else "waiting"].append(execution.pk)
    return report


def worker_lost(execution: Execution, now) -> str:
    """A reason if the worker is gone, '' if it is alive (or may still be starting)."""
    if not execution.lock_schemas:
        started = execution.started_at or execution.queued_at
        grace = settings.DATAFLOW_EXEC_LOCK_WAIT_SECONDS + LOCKLESS_GRACE_SECONDS
        beat = execution.heartbeat_at or started
        if now - beat > dt.timedelta(seconds=grace):
            return f"no lock taken and no progress for over {grace} s"
        return ""
    manager = MigrationLockManager(execution.plan.target.connection())
    for schema in execution.lock_schemas:
        status = manager.check_lock_status(schema)
        if not status.is_locked:
            return f"the migration lock on schema {schema!r} is free"
        if status.lock_data.get("execution") not in (None, execution.pk) and status.holder_alive:
            return f"the migration lock on schema {schema!r} is held by another execution"
    return ""


def mark_worker_lost(execution: Execution, reason: str) -> bool:
    """Record the outcome the target's journal shows. False while the execution's session is
    still alive on the target (decided at the next round) or when the worker finished first."""
    execution.refresh_from_db()
    if execution.status != S.RUNNING:
        return False
    operations = plan_operations(execution.plan)
    record = read_target_record(execution, operations)
    if not record.final:
        return False
    rollback = execution.kind == Execution.Kind.ROLLBACK
    if rollback:
        outcome = rollback_outcome(execution, record, len((execution.stored_rollback_plan or {}).get("steps", [])))
    else:
        outcome = migration_outcome(execution, record, len(operations))
    target = execution.plan.target.connection()
    digest_after = ""
    if execution.lock_schemas:
        try:
            digest_after = schema_digest(target, execution.lock_schemas).digest
        except Exception:  # the incident still opens; the digest is shown as unknown
            digest_after = ""
    error = "" if outcome.status == S.SUCCEEDED else (
        f"Worker {execution.worker or '?'} lost: {reason}. The target's journal shows: {outcome.summary}. "
        "An open transaction was rolled back by PostgreSQL when its session ended.")
    fields = dict(digest_after=digest_after,
                  failure_type="" if outcome.status == S.SUCCEEDED else FT.WORKER_LOST,
                  rollback_executed=outcome.status in (S.FAILED, S.ROLLED_BACK) and not rollback,
                  committed_operations=[] if rollback else outcome.applied, reconciliation=record.to_dict(),
                  progress={**execution.progress, "done": len(outcome.applied), "current": None})
    if not execution.finish(outcome.status, error=error, **fields):
        return False
    execution.refresh_from_db()
    AuditEvent.record(None, "execution.worker_lost", execution, data={
        "reason": reason, "outcome": outcome.status, "applied": outcome.applied, "digest_after": digest_after,
        "journal_key": execution.journal_key})
    transition(execution.plan, [PlanStatus.EXECUTING], outcome.plan_status, None,
               f"plan.{outcome.plan_status.lower()}", {"execution": execution.pk, "error": error[:500],
                                                        "derived_from": "target journal"})
    try:
        MigrationLockManager(target).force_cleanup_stale_locks()
    except Exception:
        pass  # informational rows only; the advisory lock is already free
    if outcome.status != S.SUCCEEDED:
        failure = FT.ROLLBACK_FAILED if rollback or outcome.status == S.ROLLBACK_FAILED else FT.WORKER_LOST
        open_incident(execution, failure, error)
    return True
