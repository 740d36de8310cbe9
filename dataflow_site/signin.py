"""Failed sign-ins: what a locked-out account is told, and the audit row written when it locks.

django-axes counts the failures and refuses the password while the account is locked; this module
only shapes the answer (the login page again, with the reason and when to try again) and records
the lockout once in the audit trail (later refused attempts would let anyone flood the trail).
"""

from __future__ import annotations

from datetime import timedelta

from axes.helpers import get_cool_off
from axes.signals import user_locked_out
from django.contrib.auth.forms import AuthenticationForm
from django.dispatch import receiver
from django.shortcuts import render
from django.utils import timezone

from targets.models import AuditEvent

LOCKED_STATUS = 429


def _minutes(delta: timedelta | None) -> int:
    return max(1, round(delta.total_seconds() / 60)) if delta else 0


def lockout_message(cool_off: timedelta | None) -> str:
    if not cool_off:
        return "Too many failed sign-ins: this account is locked until an administrator unlocks it."
    return (f"Too many failed sign-ins: this account is locked for {_minutes(cool_off)} minutes. "
            "The right password is refused until then.")


def lockout_response(request, original_response=None, credentials=None):
    """The login page again (status 429) with the lockout said plainly above the form."""
    username = (credentials or {}).get("username", "") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {"form": form, "next": request.POST.get("next", request.GET.get("next", "")),
               "lockout": lockout_message(get_cool_off(request))}
    return render(request, "registration/login.html", context, status=LOCKED_STATUS)


@receiver(user_locked_out, dispatch_uid="dataflow_audit_lockout")
def audit_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    # axes sends this signal for the failure that locks the account and again for every attempt
    # while it stays locked; only the first one counted failures (the later ones are refused first).
    if request is None or getattr(request, "axes_failures_since_start", None) is None:
        return
    cool_off = get_cool_off(request)
    AuditEvent.record(None, "auth.locked_out", object_type="user", object_id=username or "", data={
        "username": username or "", "ip_address": ip_address or "",
        "failures": request.axes_failures_since_start,
        "locked_until": (timezone.now() + cool_off).isoformat() if cool_off else None})
