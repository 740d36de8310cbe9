"""What the bottom layer announces; the layers above register the handlers.

The plans layer owns the consequences (sign-offs given against a target, incidents and alert
delivery). Targets, staging and baselines only announce, so no import points upward."""

from django.dispatch import Signal

# Sent inside the transaction that saves the target; a receiver returns the ids of the plans it
# returned to draft.
target_repointed = Signal()
# A receiver stores the alert, queues its delivery and returns it.
alert_raised = Signal()


def announce_repointed(target, actor, changes: dict) -> list[int]:
    responses = target_repointed.send(type(target), target=target, actor=actor, changes=changes)
    # a receiver that sends no plan back to draft (the pool's) answers None
    return [plan_id for _, plan_ids in responses for plan_id in plan_ids or ()]


def raise_alert(severity: str, subject: str, message: str) -> list:
    """Route an alert through whatever the app registered; an alert nobody would deliver is an error."""
    responses = alert_raised.send(None, severity=severity, subject=subject, message=message)
    if not responses:
        raise RuntimeError(f"no alert handler is registered: the alert {subject!r} would be lost")
    return [alert for _, alert in responses]
