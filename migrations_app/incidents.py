"""Incidents and alerts (runbook: Incident Documentation, Alert Configuration).

``open_incident`` is called by the executor orchestration (migrations_app.execution) whenever
something went wrong; it records impact and recovery actions, writes an audit event and queues
an alert. ``deliver`` is what the django-q2 task runs: severity routing and channel senders
come from the engine (engines/alerts.py); every attempt is appended to the Alert row.
Secrets (webhook URL, routing key) are read from settings inside the task only, never passed
as task arguments, never stored, never rendered.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from migrations_app.models import Alert, Execution, Incident, Severity
from migrations_app.permissions import can_update_incident, require
from targets.engines.alerts import AlertChannelsConfig, AlertSeverity, deliver_alert
from targets.jobs import enqueue_on_commit
from targets.models import AuditEvent

FT = Incident.FailureType

SEVERITY_OF = {
    FT.EXECUTION_FAILED: Severity.ERROR,
    FT.COMPENSATED: Severity.ERROR,
    FT.ROLLBACK: Severity.WARNING,
    FT.ROLLBACK_FAILED: Severity.CRITICAL,
    FT.EMERGENCY_STOP: Severity.ERROR,
    FT.LOCK_TIMEOUT: Severity.WARNING,
    FT.DURATION_EXCEEDED: Severity.WARNING,
    FT.WORKER_LOST: Severity.ERROR,
}


def timeline_entry(kind: str, text: str, actor=None, at=None, **extra) -> dict:
    return {"at": (at or timezone.now()).isoformat(timespec="seconds"), "kind": kind, "text": text,
            "actor": getattr(actor, "username", "") or "system", **extra}


def tables_of(plan) -> list[str]:
    seen = []
    for op in plan.operations.all():
        if op.table:
            name = f"{op.schema_name or plan.schema}.{op.table}"
            if name not in seen:
                seen.append(name)
    return seen


def recovery_actions_for(failure_type: str, execution: Execution | None) -> list[str]:
    """What was done automatically and what a DBA should do next, from the execution's facts."""
    actions = []
    if execution is not None:
        if execution.rollback_executed:
            actions.append("The open transaction was rolled back by PostgreSQL (rollback_executed).")
        unchanged = execution.digest_unchanged
        if execution.kind == Execution.Kind.ROLLBACK:
            # a rollback is meant to change the schema: what counts is whether it is back to the
            # digest before the migration (schema_verified), not whether this run changed it
            actions.append({True: "Schema digest after the rollback equals the digest before the migration.",
                            False: "Schema digest after the rollback differs from the digest before the migration: "
                                   "compare the schema with the plan's rollback.",
                            None: "The schema after the rollback was not compared with the one before the "
                                  "migration."}[execution.schema_verified])
        elif unchanged is True:
            actions.append("Schema digest after equals the digest before: the schema is unchanged.")
        elif unchanged is False:
            actions.append("Schema digest changed: compare the schema with the plan before retrying.")
    advice = {
        FT.EXECUTION_FAILED: "Read the failing statement and SQLSTATE in the execution log, fix the plan, analyse again.",
        FT.COMPENSATED: "Committed steps were undone with their rollback SQL in reverse; verify the digest, then fix the plan.",
        FT.ROLLBACK: "The plan was rolled back on request; check that applications still work on the old schema.",
        FT.ROLLBACK_FAILED: "Rollback did not complete: the schema is partly migrated. Apply the remaining rollback SQL "
                            "by hand (see the rollback plan), restore from backup if data was lost.",
        FT.EMERGENCY_STOP: "The executing statement was cancelled and its transaction rolled back; find out why it "
                           "was stopped before retrying.",
        FT.LOCK_TIMEOUT: "Another session held a conflicting lock through every retry: find the blocker "
                         "(pg_stat_activity / pg_locks) or run in a quieter window.",
        FT.DURATION_EXCEEDED: "The migration runs longer than the limit: watch blocked sessions; use Emergency stop "
                              "if it blocks production traffic.",
        FT.WORKER_LOST: "The worker process died; PostgreSQL rolled back its open transaction and released the "
                        "migration lock. Check the digest and rerun from a new plan version if needed.",
    }
    actions.append(advice[failure_type])
    return actions


def open_incident(execution: Execution, failure_type: str, summary: str, *, actor=None,
                  severity: str | None = None) -> Incident:
    plan = execution.plan
    severity = severity or SEVERITY_OF[failure_type]
    label = FT(failure_type).label
    timeline = [timeline_entry("execution", f"{execution.get_kind_display()} #{execution.pk} queued", at=execution.queued_at)]
    if execution.started_at:
        timeline.append(timeline_entry("execution", f"started on {execution.worker or 'a worker'}", at=execution.started_at))
    timeline.append(timeline_entry("incident", f"Incident opened: {label}", actor))
    with transaction.atomic():
        incident = Incident.objects.create(
            plan=plan, execution=execution, target=plan.target, severity=severity, failure_type=failure_type,
            title=f"{label}: {plan.title}"[:255], summary=summary, tables_affected=tables_of(plan),
            rows_modified=execution.rows_modified, recovery_actions=recovery_actions_for(failure_type, execution),
            timeline=timeline)
        AuditEvent.record(actor, "incident.opened", incident, data={
            "plan": plan.pk, "execution": execution.pk, "severity": severity, "failure_type": failure_type})
        queue_alert(severity, incident.title, _alert_text(incident), incident=incident, execution=execution)
    return incident


def _alert_text(incident: Incident) -> str:
    base = getattr(settings, "DATAFLOW_BASE_URL", "").rstrip("/")
    return (f"{incident.title}\nTarget: {incident.target.name}\nTables: {', '.join(incident.tables_affected) or '-'}\n"
            f"{incident.summary}\n{base}{incident.get_absolute_url()}")


def update_incident(incident: Incident, user, *, status: str = "", note: str = "") -> Incident:
    """DBAs and managers move the status and add notes; each change is on the timeline and audited."""
    require(can_update_incident(user, incident))
    note = (note or "").strip()
    changes = {}
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if status and status != locked.status:
            if status not in Incident.Status.values:
                raise ValueError(f"unknown incident status {status!r}")
            locked.timeline.append(timeline_entry("status", f"Status {locked.status} → {status}", user))
            changes["status"] = {"from": locked.status, "to": status}
            locked.status = status
            locked.resolved_at = timezone.now() if status == Incident.Status.RESOLVED else None
        if note:
            locked.notes.append({"at": timezone.now().isoformat(timespec="seconds"), "author": user.username, "text": note})
            locked.timeline.append(timeline_entry("note", note[:200], user))
            changes["note"] = note[:500]
        if changes:
            locked.save(update_fields=["status", "resolved_at", "notes", "timeline", "updated_at"])
            AuditEvent.record(user, "incident.updated", locked, data=changes)
    return locked


# Alerts ---------------------------------------------------------------------------------------

def queue_alert(severity: str, subject: str, message: str, *, incident=None, execution=None) -> Alert:
    alert = Alert.objects.create(severity=severity, subject=subject[:255], message=message,
                                 incident=incident, execution=execution)
    AuditEvent.record(None, "alert.queued", alert, data={"severity": severity, "incident": getattr(incident, "pk", None)})
    enqueue_on_commit("migrations_app.tasks.deliver_alert_task", alert.pk, name="alert", group="alerts")
    return alert


def channels_config() -> AlertChannelsConfig:
    return AlertChannelsConfig(
        slack_webhook_url=settings.DATAFLOW_SLACK_WEBHOOK_URL or "",
        pager_events_url=settings.DATAFLOW_PAGERDUTY_URL or "",
        pager_routing_key=settings.DATAFLOW_PAGERDUTY_ROUTING_KEY or "",
        email_recipients=tuple(settings.DATAFLOW_ALERT_EMAILS),
        email_from=settings.DEFAULT_FROM_EMAIL,
    )


def deliver(alert_id: int, *, sleep=time.sleep) -> str:
    """Send through the routed channels; retry the failed ones with backoff up to
    DATAFLOW_ALERT_MAX_ATTEMPTS. A channel already sent is never sent again (no double page)."""
    alert = Alert.objects.get(pk=alert_id)
    if alert.status in (Alert.Status.SENT, Alert.Status.SKIPPED):
        return alert.status  # a second delivery of the task does nothing
    config = channels_config()
    max_attempts = max(1, settings.DATAFLOW_ALERT_MAX_ATTEMPTS)
    while True:
        number = len(alert.attempts) + 1
        done = {c for c, r in alert.channels.items() if r["status"] == "sent"}
        results = deliver_alert(alert.message, AlertSeverity(alert.severity), _without(config, done),
                                send_email=send_mail, subject=f"[DataFlow {alert.severity.upper()}] {alert.subject}")
        record = []
        for r in results:
            if r.channel in done:
                continue  # blanked above to avoid a resend; keep the earlier "sent"
            record.append(r.to_dict())
            alert.channels[r.channel] = {**r.to_dict(), "attempt": number}
        alert.attempts.append({"attempt": number, "at": timezone.now().isoformat(timespec="seconds"), "results": record})
        alert.status = _overall(alert.channels)
        if alert.status in (Alert.Status.SENT, Alert.Status.PARTIAL) and alert.delivered_at is None:
            alert.delivered_at = timezone.now()
        failed = any(r["status"] == "failed" for r in alert.channels.values())
        alert.save(update_fields=["attempts", "channels", "status", "delivered_at"])
        if not failed or number >= max_attempts:
            break
        sleep(settings.DATAFLOW_ALERT_RETRY_SECONDS * 2 ** (number - 1))
    AuditEvent.record(None, "alert.delivered", alert, data={
        "status": alert.status, "attempts": len(alert.attempts),
        "channels": {c: r["status"] for c, r in alert.channels.items()}})
    return alert.status


def _without(config: AlertChannelsConfig, channels: set[str]) -> AlertChannelsConfig:
    import dataclasses

    blank = {}
    if "slack" in channels:
        blank["slack_webhook_url"] = ""
    if "pager" in channels:
        blank["pager_events_url"] = ""
    if "email" in channels:
        blank["email_recipients"] = ()
    return dataclasses.replace(config, **blank)


def _overall(channels: dict) -> str:
    statuses = [r["status"] for r in channels.values()]
    sent, failed = statuses.count("sent"), statuses.count("failed")
    if failed and sent:
        return Alert.Status.PARTIAL
    if failed:
        return Alert.Status.FAILED
    if sent:
        return Alert.Status.SENT
    return Alert.Status.SKIPPED
