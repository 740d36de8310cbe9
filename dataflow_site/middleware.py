"""Request guards that run before any view."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from django.http import HttpResponseNotFound


def nul_in_url_is_not_found(get_response):
    """A NUL (``%00``) anywhere in the path or query string names nothing that exists: 404.
    PostgreSQL cannot store or compare NUL in text, so without this a lookup would fail with 500."""

    def middleware(request):
        raw_path = request.path_info
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in raw_path or b"\x00" in unquote_to_bytes(query) or "%00" in request.get_full_path().lower():
            return HttpResponseNotFound("Not found: the address contains a NUL byte.", content_type="text/plain")
        return get_response(request)

    return middleware


def vary_on_htmx(get_response):
    """Pages answer an HTMX request (``HX-Request: true``) with a fragment and a plain request with
    the whole page at the same address (a plan's tabs push ``?tab=risk`` into the history). Without
    ``Vary: HX-Request`` the browser's cache keeps one response per address, and Back to such an
    address after leaving the page showed the bare fragment, with no page around it."""
    from django.utils.cache import patch_vary_headers

    def middleware(request):
        response = get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response

    return middleware
