"""Error pages that say what went wrong."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponseBadRequest


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return HttpResponseBadRequest(
            f"Bad request: the request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes. SQL scripts are "
            f"limited to {settings.DATAFLOW_MAX_SCRIPT_BYTES:,} bytes (DATAFLOW_MAX_SCRIPT_BYTES); split the change "
            "into several plans.", content_type="text/plain; charset=utf-8")
    return HttpResponseBadRequest("Bad request.", content_type="text/plain; charset=utf-8")
