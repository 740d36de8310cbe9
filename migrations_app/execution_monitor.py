"""The execution monitor (a django-q2 Schedule, every minute; created in migration 0004).

1. Duration limit: a RUNNING execution older than DATAFLOW_MIGRATION_DURATION_LIMIT_SECONDS
   opens one WARNING incident (compare-and-set on ``duration_alerted_at``).
2. Lost workers: a RUNNING execution whose migration lock is no longer held by it on the target
   had its worker die (kill -9, OOM, host lost). The task finishes while still holding the lock,
   so "RUNNING and lock free" can only mean the worker is gone. PostgreSQL already rolled back the
   open transaction when the session ended; the row is marked FAILED with an incident, the
   digest is read again, and the stale lock row is cleaned up.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from migrations_app.engines.concurrent_access_manager import MigrationLockManager
from migrations_app.engines.schema_digest import schema_digest
from migrations_app.incidents import open_incident
from migrations_app.models import AuditEvent, Execution, Incident, PlanStatus
from migrations_app.workflow import transition

S = Execution.Status
FT = Incident.FailureType
# A worker that claimed an execution but never took its lock (it died while connecting)
LOCKLESS_GRACE_SECONDS = 120


def monitor_executions(*, now=None) -> dict:
    now = now or timezone.now()
    report = {"over_limit": [], "worker_lost": [], "unknown": []}
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
        if lost and mark_worker_lost(execution, lost):
            report["worker_lost"].append(execution.pk)
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
    execution.refresh_from_db()
    if execution.status != S.RUNNING:
        return False
    target = execution.plan.target.connection()
    digest_after = ""
    if execution.lock_schemas:
        try:
            digest_after = schema_digest(target, execution.lock_schemas).digest
        except Exception:  # the incident still opens; the digest is shown as unknown
            digest_after = ""
    error = (f"Worker {execution.worker or '?'} lost: {reason}. PostgreSQL rolled back the open transaction "
             "when its session ended.")
    if not Execution.objects.filter(pk=execution.pk, status=S.RUNNING).update(
            status=S.FAILED, error=error, failure_type=FT.WORKER_LOST, finished_at=timezone.now(),
            digest_after=digest_after, rollback_executed=True):
        return False
    execution.refresh_from_db()
    AuditEvent.record(None, "execution.worker_lost", execution, data={"reason": reason, "digest_after": digest_after})
    rollback = execution.kind == Execution.Kind.ROLLBACK
    plan_to = PlanStatus.ROLLBACK_FAILED if rollback else PlanStatus.FAILED
    transition(execution.plan, [PlanStatus.EXECUTING], plan_to, None, f"plan.{plan_to.lower()}",
               {"execution": execution.pk, "error": error[:500]})
    try:
        MigrationLockManager(target).force_cleanup_stale_locks()
    except Exception:
        pass  # informational rows only; the advisory lock is already free
    open_incident(execution, FT.ROLLBACK_FAILED if rollback else FT.WORKER_LOST, error)
    return True
