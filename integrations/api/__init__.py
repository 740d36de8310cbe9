"""The versioned JSON API (``/api/v1/``, OpenAPI at ``/api/v1/openapi.json``), django-ninja."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from integrations.api import ci, plans, reads
from integrations.api.auth import TokenAuth, TokenRateThrottle
from integrations.plan_files import FilesError
from migrations_app.permissions import WorkflowError

api = NinjaAPI(
    title="DataFlow Migration Review API", version="1", urls_namespace="api-v1", auth=TokenAuth(),
    throttle=[TokenRateThrottle()], docs_url=None,
    description="Plans, operations, analyses, sign-off state, rehearsals, executions, incidents, targets "
                "and the per-target ledger. Authenticate with `Authorization: Bearer dfk_...` (a token "
                "from your profile page). The same permission policy and statement policy as the pages.")


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    return api.create_response(request, {"detail": str(exc) or "forbidden", "kind": "forbidden"}, status=403)


@api.exception_handler(WorkflowError)
def conflict(request, exc):
    return api.create_response(request, {"detail": str(exc), "kind": "state"}, status=409)


@api.exception_handler(FilesError)
def unreadable(request, exc):
    kind = "policy" if exc.policy else "input"
    return api.create_response(request, {"detail": str(exc), "kind": kind}, status=422)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": "not found", "kind": "not_found"}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(request, {"detail": "a valid API token is required (Authorization: Bearer ...)",
                                         "kind": "unauthenticated"}, status=401)


api.add_router("/", reads.router)
api.add_router("/", plans.router)
api.add_router("/", ci.router)
