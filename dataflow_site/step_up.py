"""Step-up confirmation with a TOTP authenticator (django-otp): enrolment and the session's last
confirmation. Whether an action needs one is decided in ``migrations_app.permissions`` only.

A confirmation belongs to the session that typed the code (a copied session cookie from
another browser carries it too, but only until it ages out), and is attached to ``request.user``
as ``step_up_at`` so the workflow, which receives the user and not the request, can ask the
policy about it.
"""

from __future__ import annotations

from datetime import datetime, timezone as dt_timezone

from django.contrib import messages
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

SESSION_KEY = "dataflow_step_up_at"
CODE_FIELD = "step_up_code"
DEVICE_NAME = "authenticator"


def enrolled_device(user) -> TOTPDevice | None:
    if user is None or not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def is_enrolled(user) -> bool:
    return enrolled_device(user) is not None


def confirmed_at(user) -> datetime | None:
    """When this user's session last typed a valid code (None: never, or not in a request)."""
    return getattr(user, "step_up_at", None)


def _mark_confirmed(request) -> None:
    now = datetime.now(dt_timezone.utc)
    request.session[SESSION_KEY] = now.timestamp()
    request.user.step_up_at = now


def confirm(request, code: str) -> bool:
    """Check ``code`` against the user's confirmed device (drift of one step either way, each code
    once, failures slow further tries: django-otp's TOTP device) and remember the confirmation."""
    device = enrolled_device(request.user)
    code = (code or "").strip().replace(" ", "")
    if device is None or not code.isdigit():
        return False
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not device.verify_token(code):
            return False
    _mark_confirmed(request)
    return True


def pending_device(user, *, create: bool) -> TOTPDevice | None:
    """The device being enrolled (unconfirmed); ``create`` makes a fresh secret, replacing any."""
    if create:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def finish_enrolment(request, code: str) -> bool:
    """Confirm the pending device with its first code; it replaces any earlier device."""
    code = (code or "").strip().replace(" ", "")
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=request.user, confirmed=False).order_by("-pk").first()
        if device is None or not code.isdigit() or not device.verify_token(code):
            return False
        TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    _mark_confirmed(request)
    return True


def remove_device(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()


class StepUpMiddleware:
    """Attaches the session's last confirmation to ``request.user``; a POST that carries a code
    (the sign-off and execute forms do) is checked here, after CSRF, before the view runs. A
    wrong code is said as a message; the workflow then refuses the action for want of one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        stamp = request.session.get(SESSION_KEY)
        user.step_up_at = datetime.fromtimestamp(stamp, dt_timezone.utc) if stamp else None
        if request.method == "POST" and request.POST.get(CODE_FIELD):
            if not confirm(request, request.POST[CODE_FIELD]):
                messages.error(request, "The authenticator code was not accepted (wrong, already used or "
                                        "expired).")
        return None
