"""The profile page: enrol, or remove, the authenticator app that step-up confirmations use.
The QR code is drawn here (segno, inline SVG) from the device's otpauth:// URL: no external
service sees the secret, and no image URL could be fetched (or cached) by anyone else."""

from __future__ import annotations

import base64

import segno
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from dataflow_site import step_up
from dataflow_site.roles import ALL_ROLES, readers, role_required
from targets.models import AuditEvent


# Not step_up.CODE_FIELD: the middleware would check (and so spend) that code before the view.
CODE = "totp_code"


def _secret(device) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


@readers
def profile(request):
    """Reads only: the pending device (and its QR code, drawn inline as SVG) is made by a POST."""
    device = step_up.enrolled_device(request.user)
    pending = None if device else step_up.pending_device(request.user, create=False)
    qr = segno.make(pending.config_url, error="m").svg_inline(scale=5, omitsize=False) if pending else ""
    return render(request, "registration/profile.html", {
        "device": device, "pending": pending, "secret": _secret(pending) if pending else "", "qr": mark_safe(qr),
        "max_age_minutes": settings.DATAFLOW_STEP_UP_MAX_AGE_SECONDS // 60, "field": CODE})


@role_required(*ALL_ROLES)
@require_POST
def authenticator_start(request):
    """A new secret for this user's authenticator (shown once on the profile page until confirmed)."""
    if not step_up.is_enrolled(request.user):
        step_up.pending_device(request.user, create=True)
    return redirect("profile")


@role_required(*ALL_ROLES)
@require_POST
def authenticator_confirm(request):
    if step_up.finish_enrolment(request, request.POST.get(CODE, "")):
        AuditEvent.record(request.user, "auth.authenticator_enrolled", object_type="user", object_id=request.user.pk,
                          data={"username": request.user.username})
        messages.success(request, "Authenticator enrolled: its codes now confirm sign-offs and executions.")
    else:
        messages.error(request, "That code did not match the QR code shown: nothing was enrolled. Try the next code.")
    return redirect("profile")


@role_required(*ALL_ROLES)
@require_POST
def authenticator_remove(request):
    """Removing the device needs a current code from it (a stolen session cannot swap it)."""
    if not step_up.confirm(request, request.POST.get(CODE, "")):
        messages.error(request, "That code was not accepted: the authenticator stays enrolled.")
        return redirect("profile")
    step_up.remove_device(request.user)
    request.session.pop(step_up.SESSION_KEY, None)
    AuditEvent.record(request.user, "auth.authenticator_removed", object_type="user", object_id=request.user.pk,
                      data={"username": request.user.username})
    messages.warning(request, "Authenticator removed.")
    return redirect("profile")
