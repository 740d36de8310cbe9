"""Bearer tokens for the API: the token's user is the request's user, so every decision below is
the permission policy's, asked with that user's roles; the token's scope can only narrow it."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from ninja.security import HttpBearer
from ninja.throttling import AuthRateThrottle

from integrations.models import ApiToken


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        row = ApiToken.find(token)
        if row is None or not row.user.is_active:
            return None
        now = timezone.now()
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now, last_used_from=_client(request))
        request.user = row.user
        request.api_token = row
        return row


def _client(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "")[:64]


def require_write(request) -> None:
    """Reading tokens read; only a read-and-write token writes (and then only what its user may)."""
    token = getattr(request, "api_token", None)
    if token is None or not token.can_write:
        raise PermissionDenied("this token is read-only; create a read and write token to change plans")


class TokenRateThrottle(AuthRateThrottle):
    """Per token (keyed by the token's id, never its secret), from DATAFLOW_API_RATE."""

    def __init__(self):
        super().__init__(settings.DATAFLOW_API_RATE)
