"""django-q2 tasks of the integration layer: thin, ids only, safe to deliver twice."""

from integrations import drift, webhooks


def check_drift() -> dict[str, int]:
    """Scheduled (every 15 minutes, created by a migration): every target against its ledger."""
    return drift.check_all_targets()


def deliver_webhook_task(delivery_id: int) -> str:
    return webhooks.deliver(delivery_id)
