"""Base-layout context: the running-migrations banner (one query, only for users with a role)."""

from dataflow_site.roles import DBA, MANAGER, user_roles


def running_migrations(request):
    user = getattr(request, "user", None)
    roles = user_roles(user) if user is not None else set()
    if not roles:
        return {"running_migrations": [], "can_emergency_stop": False}
    from migrations_app.models import Execution

    running = list(Execution.objects.filter(status__in=Execution.ACTIVE).select_related("plan__target")
                   .order_by("queued_at")[:10])
    return {"running_migrations": running, "can_emergency_stop": bool(roles & {DBA, MANAGER})}
