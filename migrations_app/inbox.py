"""The in-app inbox: what happened to my plans (sign-offs, analyses, executions, comments, from
the audit trail) and where I was mentioned, newest first. What awaits my sign-off is the
approval queue's, shown above it by the view."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from django.db.models import Q
from django.urls import reverse

from migrations_app.models import Execution, MigrationPlan
from migrations_app.review_models import PlanComment
from targets.models import AuditEvent

# Plan events that tell an author something; their own edits and requests they know about.
PLAN_VERBS = ("plan.signed_off.", "plan.rejected", "plan.approved", "plan.analysed", "plan.analysis_failed",
              "plan.commented", "plan.target_repointed")
# A page of the inbox reads at most this many of each kind (the newest): older ones are in the audit log.
HORIZON = 1000


@dataclasses.dataclass(frozen=True)
class InboxEntry:
    when: datetime
    kind: str        # "mention", "sign_off", "analysis", "execution", "comment", "plan"
    who: str
    plan: MigrationPlan | None
    text: str
    url: str


def _kind(verb: str) -> str:
    if verb.startswith(("plan.signed_off.", "plan.rejected", "plan.approved")):
        return "sign_off"
    if verb.startswith("plan.analys"):
        return "analysis"
    if verb.startswith("execution."):
        return "execution"
    return "comment" if verb == "plan.commented" else "plan"


def inbox_entries(user) -> list[InboxEntry]:
    plans = {p.pk: p for p in MigrationPlan.objects.filter(author=user).select_related("target")}
    executions = dict(Execution.objects.filter(plan__in=list(plans)).values_list("pk", "plan_id"))
    verbs = Q()
    for verb in PLAN_VERBS:
        verbs |= Q(verb__startswith=verb)
    events = (AuditEvent.objects.filter(
        (Q(object_type="migrationplan", object_id__in=[str(pk) for pk in plans]) & verbs)
        | Q(object_type="execution", object_id__in=[str(pk) for pk in executions]))
        .exclude(actor=user).order_by("-created_at", "-id")[:HORIZON])
    entries = []
    for event in events:
        if event.object_type == "execution":
            plan = plans.get(executions.get(int(event.object_id)))
            url = reverse("execution_detail", args=[int(event.object_id)])
        else:
            plan = plans.get(int(event.object_id))
            url = plan.get_absolute_url() + ("?tab=history" if event.verb == "plan.commented" else "")
        entries.append(InboxEntry(event.created_at, _kind(event.verb), event.actor_name or "system", plan,
                                  _describe(event), url))
    mentions = (PlanComment.objects.filter(mentions=user).select_related("plan", "author")
                .order_by("-created_at", "-id")[:HORIZON])
    for comment in mentions:
        if comment.plan.author_id == user.pk:
            continue  # the plan's own "plan.commented" event already lists it
        entries.append(InboxEntry(comment.created_at, "mention", comment.author.username, comment.plan,
                                  f"mentioned you: {comment.body[:300]}", comment.plan.get_absolute_url() + "?tab=history"))
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


def _describe(event) -> str:
    data = event.data or {}
    verb = event.verb
    if verb.startswith("plan.signed_off."):
        text = f"signed off: {verb.rsplit('.', 1)[1]}"
    elif verb == "plan.rejected":
        text = "rejected the plan"
    elif verb == "plan.approved":
        return "the plan is approved: every sign-off it needs is given"
    elif verb == "plan.analysed":
        return f"analysis finished: {data.get('risk_level') or 'no level'} ({data.get('risk_score')}/100)"
    elif verb == "plan.analysis_failed":
        return f"analysis failed: {data.get('error', '')}"[:300]
    elif verb == "plan.commented":
        return f"commented: {data.get('text', '')}"
    elif verb == "plan.target_repointed":
        return "the target's connection changed: sign-offs voided"
    else:
        return verb.replace("execution.", "execution ").replace("_", " ")
    return text + (f": {data['comment']}" if data.get("comment") else "")
