"""The plans layer's answers to what the targets layer announces (see targets.signals)."""

from django.dispatch import receiver

from migrations_app.incidents import queue_alert
from migrations_app.workflow import target_repointed as return_open_plans_to_draft
from targets.signals import alert_raised, target_repointed


@receiver(target_repointed, dispatch_uid="plans-return-to-draft-on-repoint")
def void_sign_offs_given_against_the_old_connection(sender, target, actor, changes, **kwargs) -> list[int]:
    return return_open_plans_to_draft(target, actor, changes)


@receiver(alert_raised, dispatch_uid="plans-queue-alert")
def queue_alert_for_delivery(sender, severity, subject, message, **kwargs):
    return queue_alert(severity, subject, message)
