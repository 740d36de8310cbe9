"""Execute, follow, roll back and emergency-stop a plan. Rules live in migrations_app.execution."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from dataflow_site.roles import DBA, MANAGER, readers, role_required
from migrations_app import execution as runner
from migrations_app import permissions
from migrations_app import execution_recovery as recovery
from migrations_app.data_backup import backup_preview, changes_data, typed_confirmation_required
from migrations_app.execution_panels import panel_context, plan_status_context
from migrations_app.gate import current_review_version, evaluate_gate, executable
from migrations_app.models import Execution, MigrationPlan
from migrations_app.workflow import WorkflowError
from targets.jobs import announce_if_finished


def _execution(pk):
    return get_object_or_404(Execution.objects.select_related("plan__target", "user", "rollback_of",
                                                              "stop_requested_by"), pk=pk)


@role_required(DBA)
@require_http_methods(["GET", "POST"])
def execution_start(request, pk):
    plan = get_object_or_404(MigrationPlan.objects.select_related("target", "author"), pk=pk)
    typed = typed_confirmation_required(plan)
    if request.method == "POST":
        try:
            execution = runner.start_execution(plan, request.user,
                                               typed_confirmation=request.POST.get("confirm_target_name"),
                                               version=request.POST.get("version"))
        except WorkflowError as exc:
            messages.error(request, str(exc))
            return redirect("execution_start", pk=plan.pk) if typed else redirect(plan)
        messages.info(request, "Execution queued: the page follows it statement by statement.")
        return redirect(execution)
    allowed = permissions.can_execute(request.user, plan)
    gate = evaluate_gate(plan)  # once: the strict gate re-reads the analysis report
    ok, reason = executable(plan, gate) if allowed else (False, allowed.reason)
    if ok and (busy := runner.schema_busy(plan)):
        ok, reason = False, busy
    return render(request, "migrations_app/execution/confirm.html", {
        "action": "execute", "plan": plan, "can_run": ok, "reason": reason, "gate": gate,
        "review_version": current_review_version(plan),
        "operations": list(plan.operations.all()), "typed_confirmation": typed,
        "changes_data": changes_data(plan), "backups": backup_preview(plan) if ok else None})


@readers
def execution_detail(request, pk):
    execution = _execution(pk)
    template = "migrations_app/execution/detail.html"
    if request.htmx and request.GET.get("part") == "actions":
        template += "#actions"
    return render(request, template, panel_context(request, execution))


@readers
def execution_progress(request, pk):
    """HTMX: the live panel; it carries its own polling trigger only while the run is active and
    announces the run's end (the plan summary and the page's action buttons refresh on it)."""
    execution = _execution(pk)
    if request.GET.get("compact"):  # the plan page header
        response = render(request, "migrations_app/execution/_plan_status.html",
                          plan_status_context(request.user, execution.plan))
    else:
        response = render(request, "migrations_app/execution/_progress.html", panel_context(request, execution))
    return announce_if_finished(response, execution, bool(request.GET.get("was_active")))


@role_required(DBA)
@require_http_methods(["GET", "POST"])
def execution_rollback(request, pk):
    execution = _execution(pk)
    if request.method == "POST":
        try:
            rollback = runner.request_rollback(execution, request.user)
        except WorkflowError as exc:
            messages.error(request, str(exc))
            return redirect(execution)
        messages.info(request, "Rollback queued.")
        return redirect(rollback)
    return render(request, "migrations_app/execution/confirm.html", {
        "action": "rollback", "execution": execution, "plan": execution.plan,
        "rollback_plan": execution.rollback_plan or {}, "can_run": panel_context(request, execution)["can_rollback"]})


@role_required(DBA, MANAGER)
@require_http_methods(["GET", "POST"])
def execution_stop(request, pk):
    execution = _execution(pk)
    if request.method == "POST":
        try:
            outcome = runner.emergency_stop(execution, request.user)
        except WorkflowError as exc:
            messages.error(request, str(exc))
            return redirect(execution)
        messages.warning(request, "Emergency stop sent" + (": the running statement was cancelled."
                                                           if outcome.get("cancelled") else
                                                           ": the migration stops before its next statement."))
        return redirect(execution)
    return render(request, "migrations_app/execution/confirm.html", {
        "action": "stop", "execution": execution, "plan": execution.plan,
        "can_run": permissions.can_emergency_stop(request.user, execution)})


@role_required(DBA)
@require_http_methods(["GET", "POST"])
def execution_recover(request, pk, action):
    """Resume a partially applied plan, or roll back its applied operations. The GET shows what
    the target's journal says now; the POST reads it again before queueing anything."""
    execution = _execution(pk)
    request_action = {"resume": recovery.request_resume, "rollback": recovery.request_rollback_of_applied}[action]
    if request.method == "POST":
        try:
            queued = request_action(execution, request.user)
        except WorkflowError as exc:
            messages.error(request, str(exc))
            return redirect(execution)
        messages.info(request, "Resume queued." if action == "resume" else "Rollback of the applied operations queued.")
        return redirect(queued)
    try:
        assessed, error = recovery.assess(execution), ""
    except Exception as exc:  # the target cannot be read: nothing may be decided
        assessed, error = None, f"the target's journal could not be read: {type(exc).__name__}: {exc}"
    can_run = assessed is not None and not assessed.problem and (action != "resume" or assessed.resume_at is not None)
    return render(request, "migrations_app/execution/recover.html", {
        "action": action, "execution": execution, "plan": execution.plan, "recovery": assessed,
        "error": error, "can_run": can_run})
