"""Rehearsals of a plan on a staging copy: request, progress, result, and the plan page's panel."""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render

from dataflow_site.roles import DBA, readers, role_required
from migrations_app import permissions
from migrations_app.models import MigrationPlan, Rehearsal
from migrations_app.rehearsals import RehearsalRefused, ready_environments, request_rehearsal
from staging_app.models import StagingEnvironment
from targets.jobs import announce_if_finished


@role_required(DBA)
def rehearse(request, plan_id):
    """POST: rehearse the plan on the READY staging copy chosen in the form."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    plan = get_object_or_404(MigrationPlan.objects.select_related("target"), pk=plan_id)
    env = StagingEnvironment.objects.filter(staging_id=request.POST.get("environment", "")).first()
    error, rehearsal = "", None
    try:
        rehearsal = request_rehearsal(plan, request.user, env,
                                      measure_baselines=request.POST.get("measure_baselines") == "on")
    except RehearsalRefused as exc:
        error = str(exc)
    if request.htmx:
        response = render(request, "migrations_app/rehearsals/_panel.html", panel_context(request, plan, error))
        if rehearsal is not None:  # a worker may have finished it already: the gate must not wait for a poll
            rehearsal.refresh_from_db()
            announce_if_finished(response, rehearsal, was_active=True)
        return response
    if error:
        messages.error(request, f"Rehearsal refused: {error}")
    return redirect(plan.get_absolute_url())


@readers
def plan_rehearsals(request, plan_id):
    """The plan page's rehearsal panel (HTMX refresh)."""
    plan = get_object_or_404(MigrationPlan.objects.select_related("target"), pk=plan_id)
    return render(request, "migrations_app/rehearsals/_panel.html", panel_context(request, plan))


@readers
def rehearsal_detail(request, rehearsal_id):
    rehearsal = get_object_or_404(Rehearsal.objects.select_related("plan__target", "environment", "requested_by"),
                                  pk=rehearsal_id)
    return render(request, "migrations_app/rehearsals/detail.html", {"rehearsal": rehearsal})


@readers
def rehearsal_progress(request, rehearsal_id):
    """Polls itself while the rehearsal runs; once it is done, returns the result (no polling) and
    announces the end (the gate card, the rehearsal list and the plan summary refresh on it)."""
    rehearsal = get_object_or_404(Rehearsal.objects.select_related("plan", "environment"), pk=rehearsal_id)
    response = render(request, "migrations_app/rehearsals/_progress.html",
                      {"rehearsal": rehearsal, "compact": bool(request.GET.get("compact"))})
    return announce_if_finished(response, rehearsal, bool(request.GET.get("was_active")))


def panel_context(request, plan, error: str = "") -> dict:
    return {
        "request": request,
        "plan": plan,
        "rehearsals": list(plan.rehearsals.select_related("environment", "requested_by")[:5]),
        "environments": list(ready_environments(plan)),
        "can_rehearse": permissions.can_rehearse(request.user, plan),
        "rehearsal_error": error,
    }
