"""The plans layer writes an audit event for every execution state change; the ledger follows
those events (after the commit, so it reads the execution as stored)."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from integrations import ledger
from targets.models import AuditEvent


@receiver(post_save, sender=AuditEvent, dispatch_uid="integrations.ledger_follows_executions")
def ledger_follows_executions(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    if not created or instance.object_type != "execution" or not instance.object_id.isdigit():
        return
    execution_id = int(instance.object_id)
    transaction.on_commit(lambda: ledger.record_execution(execution_id))
