"""Outgoing webhooks for plan, execution and drift events.

The audit trail already records every state change, so the events follow it: an audit verb that
means "analysed", "signed", "executed", "failed", "rolled back" or "drift found" becomes one
``WebhookDelivery`` per configured URL (DATAFLOW_WEBHOOK_URLS), queued after the commit. The
django-q2 task takes the delivery's id only; the URL is found again in the settings by its hash
and the secret is read there, so neither reaches a task row, a stored field, a page or a log.
Attempts are appended to the row like an alert's; failures are retried with a doubling backoff
up to DATAFLOW_WEBHOOK_MAX_ATTEMPTS. Nothing is ever sent unsigned.
"""

from __future__ import annotations

import hashlib
import json
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.engines import webhooks as engine
from integrations.models import DriftFinding, WebhookDelivery
from migrations_app.models import Execution, MigrationPlan
from targets.engines.alerts import mask_url
from targets.jobs import enqueue_on_commit
from targets.models import AuditEvent

PLAN_EVENTS = {"plan.analysed": "plan.analysed", "plan.analysis_failed": "plan.analysis_failed",
               "plan.signed_off.review": "plan.signed", "plan.signed_off.approve": "plan.signed",
               "plan.rejected": "plan.signed", "plan.approved": "plan.approved"}
# verbs written when an execution ends (the monitor's worker_lost included): the event follows
# the execution's stored status, so "rolled back" is never said of work that committed
EXECUTION_END_VERBS = {f"execution.{s.lower()}" for s in Execution.finished_statuses} | {"execution.worker_lost"}
EVENTS = ("plan.analysed", "plan.analysis_failed", "plan.signed", "plan.approved", "execution.executed",
          "execution.failed", "execution.rolled_back", "target.drift")


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def event_name(event: AuditEvent) -> str | None:
    if event.verb in PLAN_EVENTS and event.object_type == "migrationplan":
        return PLAN_EVENTS[event.verb]
    if event.verb in EXECUTION_END_VERBS and event.object_type == "execution":
        return "execution"  # decided from the row, see _execution_event
    if event.verb == "drift.detected":
        return "target.drift"
    return None


def queue_for_audit_event(audit_id: int) -> list[WebhookDelivery]:
    """Called after the audit event's transaction committed. One delivery per configured URL."""
    urls = list(settings.DATAFLOW_WEBHOOK_URLS)
    event = AuditEvent.objects.filter(pk=audit_id).first()
    if not urls or event is None or event_name(event) is None:
        return []
    payload = build_payload(event)
    if payload is None:
        return []
    with transaction.atomic():
        deliveries = [WebhookDelivery.objects.create(event=payload["event"], payload=payload, endpoint=mask_url(url),
                                                     endpoint_hash=url_hash(url)) for url in urls]
        for delivery in deliveries:
            enqueue_on_commit("integrations.tasks.deliver_webhook_task", delivery.pk, name="webhook", group="webhooks")
    return deliveries


def build_payload(event: AuditEvent) -> dict | None:
    base = settings.DATAFLOW_BASE_URL.rstrip("/")
    name = event_name(event)
    common = {"id": f"audit-{event.pk}", "occurred_at": event.created_at.isoformat(), "actor": event.actor_name,
              "audit_verb": event.verb}
    if name == "execution":
        execution = Execution.objects.select_related("plan__target").filter(pk=event.object_id).first()
        if execution is None or execution.status not in Execution.finished_statuses:
            return None
        return {**common, "event": _execution_event(execution), "execution": _execution(execution, base),
                "plan": _plan(execution.plan, base)}
    if name == "target.drift":
        finding = DriftFinding.objects.select_related("target").filter(pk=event.object_id).first()
        if finding is None:
            return None
        counts = {kind: sum(1 for c in finding.changes if c["change"] == kind) for kind in ("added", "removed", "changed")}
        return {**common, "event": name, "target": {"id": finding.target_id, "name": finding.target.name},
                "drift": {"id": finding.pk, "reference_entry": finding.reference_id,
                          "reference_digest": finding.reference_digest, "live_digest": finding.live_digest,
                          **counts, "objects": [{k: c[k] for k in ("change", "kind", "name")} for c in finding.changes],
                          "url": f"{base}/targets/{finding.target_id}/ledger/?drift={finding.pk}"}}
    plan = MigrationPlan.objects.select_related("target").filter(pk=event.object_id).first()
    if plan is None:
        return None
    extra = {k: event.data[k] for k in ("role", "comment", "sign_off", "analysis", "from", "to") if k in event.data}
    if name == "plan.signed":
        extra["decision"] = "reject" if event.verb == "plan.rejected" else event.verb.rsplit(".", 1)[1]
    return {**common, "event": name, "plan": _plan(plan, base), "details": extra}


def _execution_event(execution: Execution) -> str:
    if execution.status == Execution.Status.ROLLED_BACK or (
            execution.kind == Execution.Kind.ROLLBACK and execution.status == Execution.Status.SUCCEEDED):
        return "execution.rolled_back"
    if execution.status == Execution.Status.SUCCEEDED:
        return "execution.executed"
    return "execution.failed"


def _plan(plan: MigrationPlan, base: str) -> dict:
    return {"id": plan.pk, "title": plan.title, "status": plan.status, "risk_level": plan.risk_level,
            "risk_score": plan.risk_score, "sql_hash": plan.sql_hash,
            "target": {"id": plan.target_id, "name": plan.target.name, "environment": plan.target.environment},
            "url": f"{base}{plan.get_absolute_url()}"}


def _execution(execution: Execution, base: str) -> dict:
    return {"id": execution.pk, "kind": execution.kind, "status": execution.status,
            "error": (execution.error or "")[:500], "rollback_executed": execution.rollback_executed,
            "digest_before": execution.digest_before, "digest_after": execution.digest_after,
            "finished_at": execution.finished_at.isoformat() if execution.finished_at else None,
            "url": f"{base}{execution.get_absolute_url()}"}


def deliver(delivery_id: int, *, sleep=time.sleep) -> str:
    """Post until sent, refused for good, or out of attempts. A second delivery of the task after
    success does nothing; the body is the same bytes on every attempt (receivers may dedupe on
    the X-DataFlow-Delivery header)."""
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    if delivery.status in (WebhookDelivery.Status.SENT, WebhookDelivery.Status.SKIPPED):
        return delivery.status
    url = next((u for u in settings.DATAFLOW_WEBHOOK_URLS if url_hash(u) == delivery.endpoint_hash), None)
    secret = settings.DATAFLOW_WEBHOOK_SECRET or ""
    if url is None or not secret:
        why = ("the URL is no longer in DATAFLOW_WEBHOOK_URLS" if url is None
               else "DATAFLOW_WEBHOOK_SECRET is not set: nothing is sent unsigned")
        _append(delivery, engine.AttemptResult("skipped", why), final=WebhookDelivery.Status.SKIPPED)
        return delivery.status
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    max_attempts = max(1, settings.DATAFLOW_WEBHOOK_MAX_ATTEMPTS)
    while True:
        number = len(delivery.attempts) + 1
        result = engine.post(url, body, secret=secret, event=delivery.event, delivery_id=str(delivery.pk),
                             timeout=settings.DATAFLOW_WEBHOOK_TIMEOUT_SECONDS)
        done = result.status == "sent" or not result.retry or number >= max_attempts
        _append(delivery, result, final=(WebhookDelivery.Status.SENT if result.status == "sent"
                                         else WebhookDelivery.Status.FAILED) if done else None)
        if done:
            break
        sleep(settings.DATAFLOW_WEBHOOK_RETRY_SECONDS * 2 ** (number - 1))
    AuditEvent.record(None, "webhook.delivered", delivery, data={
        "event": delivery.event, "endpoint": delivery.endpoint, "status": delivery.status,
        "attempts": len(delivery.attempts)})
    return delivery.status


def _append(delivery: WebhookDelivery, result: engine.AttemptResult, *, final: str | None) -> None:
    delivery.attempts.append({"attempt": len(delivery.attempts) + 1, "at": timezone.now().isoformat(timespec="seconds"),
                              **result.to_dict()})
    if final:
        delivery.status = final
        if final == WebhookDelivery.Status.SENT:
            delivery.delivered_at = timezone.now()
    delivery.save(update_fields=["attempts", "status", "delivered_at"])
