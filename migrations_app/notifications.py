"""Emails about plans (Django's email backend, configured by DATAFLOW_EMAIL_* env vars)."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from dataflow_site.roles import MANAGER

log = logging.getLogger(__name__)


def _plan_url(plan) -> str:
    base = getattr(settings, "DATAFLOW_BASE_URL", "").rstrip("/")
    return f"{base}{plan.get_absolute_url()}"


def notify_managers_awaiting_sign_off(plan) -> int:
    managers = get_user_model().objects.filter(groups__name=MANAGER, is_active=True).exclude(email="")
    recipients = sorted({m.email for m in managers})
    if not recipients:
        log.info("plan %s awaits a manager sign-off, but no manager has an email address", plan.pk)
        return 0
    subject = f"[DataFlow] {plan.risk_level} plan awaits your sign-off: {plan.title}"
    body = (f"{plan.author.username} wrote the plan \"{plan.title}\" for {plan.target.name}.\n"
            f"Its analysis rates it {plan.risk_level} ({plan.risk_score}/100).\n\nReview it: {_plan_url(plan)}\n")
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True)


def notify_author(plan, sign_off) -> int:
    if not plan.author.email:
        return 0
    verb = {"reject": "rejected", "approve": "approved", "review": "reviewed"}[sign_off.decision]
    status = plan.get_status_display().lower()
    subject = f"[DataFlow] Your plan was {verb}: {plan.title}"
    body = (f"{sign_off.user.username} ({sign_off.role}) {verb} \"{plan.title}\". The plan is now {status}.\n"
            + (f"\nComment: {sign_off.comment}\n" if sign_off.comment else "") + f"\n{_plan_url(plan)}\n")
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [plan.author.email], fail_silently=True)


def notify_mentioned(plan, comment, users) -> int:
    """One e-mail to each mentioned user who has an address; the in-app inbox lists the mention anyway."""
    sent = 0
    subject = f"[DataFlow] {comment.author.username} mentioned you on: {plan.title}"
    body = f"{comment.author.username} wrote on \"{plan.title}\":\n\n{comment.body}\n\n{_plan_url(plan)}?tab=history\n"
    for user in users:
        if user.email:
            sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], fail_silently=True)
    return sent
