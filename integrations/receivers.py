"""The plans layer writes an audit event for every state change; the ledger and the outgoing
webhooks follow those events (after the commit, so they read the rows as stored)."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from integrations import ledger, webhooks
from migrations_app.signals import execution_finished
from targets.models import AuditEvent


@receiver(execution_finished, dispatch_uid="integrations.ledger_keeps_the_run_snapshot")
def ledger_keeps_the_run_snapshot(sender, execution_id: int, snapshot, **kwargs) -> None:
    """Registered before the audit event's hook below (the finish sends this first), so the entry
    is written with the snapshot the executor read right after the run: no second catalog read."""
    if snapshot is not None:
        transaction.on_commit(lambda: ledger.record_execution(execution_id, snapshot=True, taken=snapshot))


@receiver(post_save, sender=AuditEvent, dispatch_uid="integrations.ledger_follows_executions")
def ledger_follows_executions(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    if not created or instance.object_type != "execution" or not instance.object_id.isdigit():
        return
    execution_id = int(instance.object_id)
    transaction.on_commit(lambda: ledger.record_execution(execution_id, snapshot=True))


@receiver(post_save, sender=AuditEvent, dispatch_uid="integrations.webhooks_follow_events")
def webhooks_follow_events(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    if not created or webhooks.event_name(instance) is None:
        return
    audit_id = instance.pk
    transaction.on_commit(lambda: webhooks.queue_for_audit_event(audit_id))
