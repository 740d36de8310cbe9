"""Base-layout context: the running-migrations banner (one query, only for users with a role)
and ``may``, what the user may do that needs no object (links to forms, the queue)."""

from migrations_app import permissions


def running_migrations(request):
    user = getattr(request, "user", None)
    if not permissions.can_read(user):
        return {"running_migrations": [], "can_emergency_stop": False}
    from migrations_app.models import Execution

    running = list(Execution.objects.filter(status__in=Execution.ACTIVE).select_related("plan__target")
                   .order_by("queued_at")[:10])
    return {"running_migrations": running, "can_emergency_stop": permissions.can_emergency_stop(user)}


def may(request):
    return {"may": permissions.user_may(getattr(request, "user", None))}
