"""POST endpoints of the plan workflow. Each parses its form, calls one workflow function and
redirects (or, for HTMX, re-renders the part that changed). Rules live in migrations_app.workflow."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from dataflow_site.roles import DBA, MANAGER, role_required
from migrations_app import mitigation_copy, workflow
from migrations_app.forms import ChecklistForm, OperationForm, PlanDetailsForm, ReplaceSqlForm, SignOffForm
from migrations_app.gate import current_analysis, current_review_version
from migrations_app.models import MigrationPlan
from migrations_app.plan_sql import ScriptError
from migrations_app.views.plans import plan_context


def _plan(pk):
    return get_object_or_404(MigrationPlan.objects.select_related("target", "author"), pk=pk)


def _require_author(request, plan):
    """Edit forms are the author's; the workflow refuses anyone else's POST as well."""
    if plan.author_id != request.user.pk:
        raise PermissionDenied("only the author edits a plan")


def _operations_fragment(request, plan):
    context = plan_context(request, plan)
    context["tab"] = "operations"
    # the whole tab body: the forms inside it inherit its hx-swap="outerHTML", so an answer without
    # the #tab-body wrapper would leave the next edit, add, move or remove without a target
    response = render(request, "migrations_app/plans/_tab_body.html", context)
    response["HX-Trigger"] = "plan-changed"
    return response


@role_required(DBA)
@require_POST
def analyse(request, pk):
    plan = _plan(pk)
    try:
        workflow.request_analysis(plan, request.user)
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
        return redirect(plan)
    messages.info(request, "Analysis queued.")
    return redirect(plan)


@role_required(DBA)
@require_POST
def operation_add(request, pk):
    plan = _plan(pk)
    form = OperationForm(request.POST, plan=plan)
    if not form.is_valid():
        context = {**plan_context(request, plan), "operation_form": form, "tab": "operations"}
        return render(request, "migrations_app/plans/_tab_body.html", context, status=422 if request.htmx else 200)
    try:
        workflow.add_operation(plan, request.user, **form.operation)
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
    return _operations_fragment(request, plan) if request.htmx else redirect(plan)


@role_required(DBA)
@require_http_methods(["GET", "POST"])
def operation_edit(request, pk, op_id):
    plan = _plan(pk)
    operation = get_object_or_404(plan.operations, pk=op_id)
    form = OperationForm(request.POST or None, plan=plan, operation=operation,
                         initial={"sql": operation.sql, "rollback_sql": operation.rollback_sql})
    if request.method == "POST" and form.is_valid():
        try:
            workflow.update_operation(plan, request.user, operation.pk, **{k: v for k, v in form.operation.items() if k != "line"})
        except workflow.WorkflowError as exc:
            messages.error(request, str(exc))
        return _operations_fragment(request, plan) if request.htmx else redirect(plan)
    _require_author(request, plan)
    template = "migrations_app/plans/_operation_edit.html"
    return render(request, template, {"plan": plan, "operation": operation, "form": form})


@role_required(DBA)
@require_POST
def operation_remove(request, pk, op_id):
    plan = _plan(pk)
    try:
        workflow.remove_operation(plan, request.user, op_id)
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
    return _operations_fragment(request, plan) if request.htmx else redirect(plan)


@role_required(DBA)
@require_POST
def operation_move(request, pk, op_id, direction):
    plan, op_id, pk = _plan(pk), int(op_id), int(pk)
    try:
        workflow.move_operation(plan, request.user, op_id, -1 if direction == "up" else 1)
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
    return _operations_fragment(request, plan) if request.htmx else redirect(plan)


@role_required(DBA)
@require_http_methods(["GET", "POST"])
def replace_sql(request, pk):
    plan = _plan(pk)
    _require_author(request, plan)
    initial = ";\n\n".join(op.sql for op in plan.operations.all()) + ";"
    form = ReplaceSqlForm(request.POST or None, plan=plan, initial={"sql": initial})
    if request.method == "POST" and form.is_valid():
        try:
            workflow.replace_operations(plan, request.user, form.operations)
        except workflow.WorkflowError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"SQL replaced: {len(form.operations)} operations. Sign-offs were voided; analyse again.")
        return redirect(plan)
    return render(request, "migrations_app/plans/replace_sql.html", {"plan": plan, "form": form})


@role_required(DBA)
@require_http_methods(["GET", "POST"])
def edit_details(request, pk):
    plan = _plan(pk)
    _require_author(request, plan)
    form = PlanDetailsForm(request.POST or None, initial={"title": plan.title, "description": plan.description,
                                                          "statement_timeout_seconds": plan.statement_timeout_seconds})
    if request.method == "POST" and form.is_valid():
        workflow.update_details(plan, request.user, **form.cleaned_data)
        return redirect(plan)
    return render(request, "migrations_app/plans/edit_details.html", {"plan": plan, "form": form})


@role_required(DBA, MANAGER)
@require_POST
def sign_off(request, pk):
    plan = _plan(pk)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a decision.")
        return redirect(plan)
    try:
        record = workflow.sign_off(plan, request.user, form.cleaned_data["decision"], form.cleaned_data["comment"],
                                   version=form.cleaned_data["version"],
                                   acknowledge_failed_rehearsal=form.cleaned_data["acknowledge_failed_rehearsal"])
    except workflow.WorkflowError as exc:
        messages.error(request, _stale_page_first(plan, form.cleaned_data["version"], str(exc)))
        return redirect(f"{plan.get_absolute_url()}?tab=history")
    plan.refresh_from_db()
    messages.success(request, f"Recorded: {record.get_decision_display().lower()}. The plan is {plan.get_status_display().lower()}.")
    return redirect(f"{plan.get_absolute_url()}?tab=history")


def _stale_page_first(plan, version: str | None, refusal: str) -> str:
    """A sign-off refused for the plan's state (an author's edit put it back to draft, say) from a
    page that showed another version says first that the plan changed since the page was read."""
    if not version or refusal == workflow.STALE_PAGE:
        return refusal
    plan.refresh_from_db()
    if version == current_review_version(plan):
        return refusal
    return f"{workflow.STALE_PAGE} Now: {refusal[:1].lower()}{refusal[1:].rstrip('.')}."


@role_required(DBA, MANAGER)
@require_POST
def checklist(request, pk):
    plan = _plan(pk)
    form = ChecklistForm(request.POST)
    form.is_valid()
    try:
        workflow.tick_checklist(plan, request.user, form.cleaned_data)
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Pre-migration checklist saved.")
    return redirect(f"{plan.get_absolute_url()}?tab=risk")


@role_required(DBA)
@require_POST
def reopen(request, pk):
    plan = _plan(pk)
    try:
        workflow.reopen(plan, request.user)
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
    return redirect(plan)


@role_required(DBA)
@require_POST
def apply_mitigation(request, pk, step):
    """Copy a mitigation step into the plan: a rewrite replaces the statement it fixes, a
    preparation goes first, a verification last (``mitigation_copy``)."""
    plan = _plan(pk)
    analysis = current_analysis(plan)
    steps = ((analysis.report or {}).get("mitigation") or {}).get("steps") or [] if analysis else []
    chosen = next((s for s in steps if s.get("order") == step), None)
    if not chosen or not (chosen.get("safe_sql") or chosen.get("rewrites")):
        messages.error(request, "That mitigation step has no SQL to add.")
        return redirect(f"{plan.get_absolute_url()}?tab=mitigation")
    try:
        result = mitigation_copy.copy_step(plan, request.user, chosen)
    except (ScriptError, workflow.WorkflowError) as exc:
        messages.error(request, f"Could not add the step: {exc}")
        return redirect(f"{plan.get_absolute_url()}?tab=mitigation")
    messages.success(request, result.message)
    return redirect(plan)
