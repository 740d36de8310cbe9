"""A plan's comment thread: posting (policy, audit event, mentions) and the mentions' e-mails."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import transaction

from migrations_app import permissions
from migrations_app.notifications import notify_mentioned
from migrations_app.permissions import WorkflowError, require
from migrations_app.review_models import PlanComment
from targets.models import AuditEvent

MAX_COMMENT_CHARS = 10_000
# Django's default username characters; a mention ends at anything else ("@bob," "@bob.")
MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]*[\w+-])")


def mentioned_users(body: str, author):
    """Active users named by ``@username`` in ``body`` who may read the plan (an outsider is not
    told about a plan they cannot open); the author is not notified of their own mention."""
    names = {m.group(1) for m in MENTION.finditer(body)}
    if not names:
        return []
    users = get_user_model().objects.filter(username__in=names, is_active=True).exclude(pk=author.pk)
    return [u for u in users.order_by("username") if permissions.can_read(u)]


def post_comment(plan, user, body: str) -> PlanComment:
    require(permissions.can_comment(user, plan))
    body = (body or "").strip()
    if not body:
        raise WorkflowError("the comment is empty")
    if len(body) > MAX_COMMENT_CHARS:
        raise WorkflowError(f"a comment holds at most {MAX_COMMENT_CHARS} characters")
    mentioned = mentioned_users(body, user)
    with transaction.atomic():
        comment = PlanComment.objects.create(plan=plan, author=user, body=body)
        comment.mentions.set(mentioned)
        AuditEvent.record(user, "plan.commented", plan, data={
            "comment": comment.pk, "mentions": [u.username for u in mentioned], "text": body[:200]})
        if mentioned:
            transaction.on_commit(lambda: notify_mentioned(plan, comment, mentioned))
    return comment
