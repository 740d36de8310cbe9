"""The three roles and the access helpers every view starts with.

DBA: writes and runs plans, manages targets. Manager: signs off HIGH/CRITICAL plans.
Engineer: reads everything, changes nothing. A logged-in user with none of these roles
(an "outsider") sees no page of the tool.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.views.decorators.http import require_safe

DBA = "DBA"
MANAGER = "Manager"
ENGINEER = "Engineer"
ALL_ROLES = (DBA, MANAGER, ENGINEER)


def user_roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_dataflow_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) & set(ALL_ROLES)
        if user.is_superuser:
            cached = set(ALL_ROLES)
        user._dataflow_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def require_role(user, *roles: str) -> None:
    """Raise PermissionDenied unless the user holds one of ``roles``."""
    if not has_role(user, *roles):
        raise PermissionDenied


def role_required(*roles: str):
    """View decorator: login first (anonymous users go to the login page), then the role."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            require_role(request.user, *roles)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def readers(view):
    """Pages every role reads. GET and HEAD only: a page that only reads answers any other method
    with 405, so no POST can ever reach a reader (an engineer) through it. A page that also takes
    a POST from some roles uses ``role_required(*ALL_ROLES)`` and checks the role itself."""
    return role_required(*ALL_ROLES)(require_safe(view))


def roles_context(request):
    roles = user_roles(request.user) if hasattr(request, "user") else set()
    return {
        "user_roles": roles,
        "is_dba": DBA in roles,
        "is_manager": MANAGER in roles,
        "is_engineer": ENGINEER in roles,
    }
