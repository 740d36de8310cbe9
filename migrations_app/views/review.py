"""A plan's comment thread and the user's inbox."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dataflow_site.roles import ALL_ROLES, readers, role_required
from migrations_app import comments
from migrations_app.inbox import inbox_entries
from migrations_app.models import MigrationPlan
from migrations_app.permissions import WorkflowError
from migrations_app.views.plans import awaiting_sign_off

INBOX_PER_PAGE = 50


@role_required(*ALL_ROLES)  # who may comment is permissions.can_comment's, asked by post_comment
@require_POST
def plan_comment(request, pk):
    plan = get_object_or_404(MigrationPlan, pk=pk)
    try:
        comment = comments.post_comment(plan, request.user, request.POST.get("body", ""))
    except WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        named = ", ".join(u.username for u in comment.mentions.all())
        messages.success(request, "Comment posted" + (f"; {named} notified." if named else "."))
    return redirect(plan.get_absolute_url() + "?tab=history#comments")


@readers
def inbox(request):
    queue = awaiting_sign_off(request.user)
    page = Paginator(inbox_entries(request.user), INBOX_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "migrations_app/inbox.html", {
        "awaiting": queue[:10], "awaiting_count": queue.count(), "page": page})
