"""The SQL editor's completion list: a target's schemas -> relations -> columns, as JSON.

Read live from the target's catalog in one query (``targets.engines.completion``), kept for
``CACHE_SECONDS`` per target (and per connection settings, so a repointed target is read anew),
bounded to the first ``RELATION_LIMIT`` relations. An unreachable target answers 200 with
``ok: false`` and the error in words: the editor then offers keywords only, quietly.
"""

import hashlib

from django.core.cache import cache
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404

from dataflow_site.roles import ALL_ROLES, role_required
from migrations_app import permissions
from targets.crypto import SecretDecryptionError
from targets.engines.completion import CompletionCatalog, read_completion_catalog
from targets.models import TargetDatabase

CACHE_SECONDS = 60


def _cache_key(target) -> str:
    where = "\x00".join(str(v) for v in (target.host, target.port, target.dbname, target.user, target.sslmode))
    return f"sql-completion:{target.pk}:{hashlib.sha256(where.encode()).hexdigest()[:16]}"


@role_required(*ALL_ROLES)
def sql_completion(request, target_id):
    permissions.require(permissions.can_read_target_catalog(request.user))  # who asks, before the method
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    target = get_object_or_404(TargetDatabase, pk=target_id)
    key = _cache_key(target)
    data = cache.get(key)
    if data is None:
        try:
            catalog = read_completion_catalog(target.connection())
        except SecretDecryptionError as exc:  # its message names no secret (targets/crypto.py)
            catalog = CompletionCatalog(ok=False, error=str(exc))
        data = catalog.as_dict()
        if catalog.ok:  # an unreachable target is asked again next time, not remembered as empty
            cache.set(key, data, CACHE_SECONDS)
    response = JsonResponse({"target": target.name, **data})
    response["Cache-Control"] = "private, no-store"
    return response
