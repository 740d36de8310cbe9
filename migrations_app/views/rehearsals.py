"""Rehearsals of a plan on a staging copy: request, progress, result, and the plan page's panel."""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render

from dataflow_site.roles import DBA, readers, role_required
from migrations_app import permissions
from migrations_app.models import MigrationPlan, Rehearsal
from migrations_app.rehearsals import RehearsalRefused, ready_environments, request_rehearsal
from staging_app.models import StagingEnvironment


@role_required(DBA)
def rehearse(request, plan_id):
    """POST: rehearse the plan on the READY staging copy chosen in the form."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    plan = get_object_or_404(MigrationPlan.objects.select_related("target"), pk=plan_id)
    env = StagingEnvironment.objects.filter(staging_id=request.POST.get("environment", "")).first()
    error = ""
    try:
        request_rehearsal(plan, request.user, env, measure_baselines=request.POST.get("measure_baselines") == "on")
    except RehearsalRefused as exc:
        error = str(exc)
    if request.htmx:
        return render(request, "migrations_app/rehearsals/_panel.html", panel_context(request, plan, error))
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
    """Polls itself while the rehearsal runs; once it is done, returns the result (no trigger)."""
    rehearsal = get_object_or_404(Rehearsal.objects.select_related("plan", "environment"), pk=rehearsal_id)
    return render(request, "migrations_app/rehearsals/_progress.html", {"rehearsal": rehearsal})


def panel_context(request, plan, error: str = "") -> dict:
    return {
        "request": request,
        "plan": plan,
        "rehearsals": list(plan.rehearsals.select_related("environment", "requested_by")[:5]),
        "environments": list(ready_environments(plan)),
        "can_rehearse": permissions.can_rehearse(request.user, plan),
        "rehearsal_error": error,
    }
