"""Plans: list, create, review page with its tabs, and the approval queue."""

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from dataflow_site.roles import DBA, readers, role_required
from migrations_app import permissions, workflow
from migrations_app.forms import ChecklistForm, OperationForm, PlanCreateForm, PlanFilterForm, SignOffForm
from migrations_app.gate import current_analysis, current_review_version, evaluate_gate
from migrations_app.models import MigrationPlan, PlanOperation, PlanStatus, SignOff
from migrations_app.plan_report import ReportView, dependency_graph_html, risk_chart_html
from migrations_app.plan_versions import choose_diff
from migrations_app.review_version import review_version
from migrations_app.staging_validation import rehearsal_state
from targets.jobs import announce_if_finished
from targets.models import AuditEvent

TABS = [("operations", "Operations"), ("dependencies", "Dependencies"), ("risk", "Risk"),
        ("mitigation", "Mitigation"), ("history", "Sign-offs and history")]


OPERATIONS_PER_PAGE = 100
QUEUE_PER_PAGE = 50


@readers
def plan_list(request):
    form = PlanFilterForm(request.GET or None)
    plans = MigrationPlan.objects.select_related("target", "author")
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            plans = plans.filter(Q(title__icontains=data["q"]) | Q(description__icontains=data["q"])
                                 | Q(operations__sql__icontains=data["q"])).distinct()
        if data["status"]:
            plans = plans.filter(status=data["status"])
        if data["risk"]:
            plans = plans.filter(risk_level=data["risk"])
        if data["target"]:
            plans = plans.filter(target=data["target"])
        if data["author"]:
            plans = plans.filter(author__username__icontains=data["author"])
    page = Paginator(plans.order_by("-updated_at", "-id"), 25).get_page(request.GET.get("page"))
    # counted for the 25 rows shown, not for every plan before the LIMIT
    counts = dict(PlanOperation.objects.filter(plan__in=list(page)).values_list("plan").annotate(n=Count("id")))
    for plan in page:
        plan.operation_count = counts.get(plan.pk, 0)
    params = request.GET.copy()
    params.pop("page", None)
    template = "migrations_app/plans/list.html#results" if request.htmx else "migrations_app/plans/list.html"
    return render(request, template, {"form": form, "page": page, "querystring": params.urlencode()})


def awaiting_sign_off(user):
    """Plans in review that this user may sign and has not yet signed at the current version,
    newest first, as a queryset (callers page it)."""
    levels = permissions.levels_signed_by(user)
    if not levels:
        return MigrationPlan.objects.none()
    plans = (MigrationPlan.objects.filter(status=PlanStatus.IN_REVIEW, risk_level__in=levels).exclude(author=user)
             .select_related("target", "author").order_by("-updated_at", "-id"))
    # a sign-off of mine counts only while it binds the plan's current review version; only the
    # plans I signed need that check (a handful), so the queue stays one query however long it is
    mine = {}
    for plan_id, review_hash in SignOff.objects.filter(user=user, voided=False, plan__in=plans).values_list(
            "plan_id", "review_hash"):
        mine.setdefault(plan_id, set()).add(review_hash)
    signed = [plan.pk for plan in MigrationPlan.objects.filter(pk__in=mine).select_related("target")
              if current_review_version(plan) in mine[plan.pk]]
    return plans.exclude(pk__in=signed)


@readers
def my_queue(request):
    page = Paginator(awaiting_sign_off(request.user), QUEUE_PER_PAGE).get_page(request.GET.get("page"))
    for plan in page:
        plan.rehearsal_state, plan.latest_rehearsal = rehearsal_state(plan)
    return render(request, "migrations_app/plans/queue.html", {"plans": page, "page": page})


def dashboard_context(request) -> dict:
    counts = dict(MigrationPlan.objects.values_list("status").annotate(n=Count("id")).order_by())
    by_status = [(value, label, counts.get(value, 0)) for value, label in PlanStatus.choices]
    queue = awaiting_sign_off(request.user)
    return {"plans_by_status": by_status, "approval_queue": queue[:10], "approval_queue_count": queue.count(),
            "recent_plans": MigrationPlan.objects.select_related("target", "author")[:8]}


@role_required(DBA)
@require_http_methods(["GET", "POST"])
def plan_create(request):
    form = PlanCreateForm(request.POST or None, initial={"target": request.GET.get("target")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        plan = workflow.create_plan(request.user, target=data["target"], title=data["title"], schema=data["schema"],
                                    description=data["description"], operations=form.operations)
        return redirect(plan)
    return render(request, "migrations_app/plans/create.html", {"form": form})


@readers
def plan_detail(request, pk):
    plan = get_object_or_404(MigrationPlan.objects.select_related("target", "author", "checklist_by"), pk=pk)
    tab = request.GET.get("tab", "operations")
    if tab not in dict(TABS):
        tab = "operations"
    summary_only = bool(request.htmx and request.GET.get("part") == "summary")
    context = plan_context(request, plan, "summary" if summary_only else tab)  # "summary": no statements
    context["tab"] = tab
    if tab == "dependencies":
        context["dependency_graph"] = dependency_graph_html(context["report"])
    elif tab == "risk":
        context["risk_chart"] = risk_chart_html(context["report"])
    elif tab == "history":
        context.update(history_context(request, plan))
    if summary_only:
        return render(request, "migrations_app/plans/detail.html#summary", context)
    if request.htmx and request.GET.get("tab"):
        return render(request, "migrations_app/plans/_tab_body.html", context)
    return render(request, "migrations_app/plans/detail.html", context)


def history_context(request, plan) -> dict:
    """Versions of the operations with the chosen diff (``from``/``to`` version numbers), the thread."""
    return {"versions": list(plan.versions.select_related("author")),
            "version_diff": choose_diff(plan, request.GET.get("from"), request.GET.get("to")),
            "comments": plan.comments.select_related("author").prefetch_related("mentions"),
            "can_comment": permissions.can_comment(request.user, plan)}


def plan_context(request, plan, tab: str = "operations") -> dict:
    analysis = current_analysis(plan)  # without its report: the page reads its summary and a page of statements
    latest = plan.analyses.defer("report").order_by("-queued_at", "-id").first()  # its status only
    user = request.user
    # a long plan is shown a page of operations at a time (the header and the gate cover all of them)
    ops_page = Paginator(plan.operations.all(), OPERATIONS_PER_PAGE).get_page(request.GET.get("ops"))
    first = ops_page.start_index() - 1 if ops_page.paginator.count else 0
    # the analysis is of this exact SQL (same hash), so statement i is operation i; only the
    # operations tab shows statements
    report = ReportView.of_analysis(analysis, first, len(ops_page.object_list) if tab == "operations" else 0)
    return {
        "plan": plan,
        "tabs": TABS,
        "operations": list(ops_page),
        "operation_count": ops_page.paginator.count,
        "ops_page": ops_page,
        "operation_rows": [(op, report.statement_for(first + i)) for i, op in enumerate(ops_page)],
        "analysis": analysis,
        "latest_analysis": latest,
        "report": report,
        "gate": evaluate_gate(plan, analysis, strict=False),  # approval and the executor check strictly
        "review_version": review_version(plan, analysis),
        "sign_offs": plan.sign_offs.select_related("user"),
        "events": AuditEvent.objects.filter(object_type="migrationplan", object_id=str(plan.pk))[:100],
        "can_edit": permissions.can_edit_plan(user, plan),
        "can_analyse": permissions.can_analyse(user, plan),
        "can_sign": permissions.can_sign_off(user, plan),
        "can_tick_checklist": permissions.can_tick_checklist(user, plan),
        "can_reopen": permissions.can_reopen(user, plan),
        "is_author": plan.author_id == user.pk,
        "sign_off_form": SignOffForm(),
        "checklist_form": ChecklistForm(initial={f: getattr(plan, f) for f in workflow.CHECKLIST_FIELDS}),
        "operation_form": OperationForm(plan=plan),
        "decisions": permissions.sign_off_decisions(user, plan),
        "sign_off_limits": permissions.sign_off_limits(user, plan),
        "offers_approval": bool(permissions.can_sign_off(user, plan, SignOff.Decision.APPROVE)),
    }


@readers
def analysis_status(request, pk):
    """HTMX: the analysis panel; it polls while the run is queued or running and announces its end
    (the summary, the gate and the tabs refresh on it)."""
    plan = get_object_or_404(MigrationPlan, pk=pk)
    latest = plan.analyses.defer("report").order_by("-queued_at", "-id").first()
    response = render(request, "migrations_app/plans/_analysis_status.html", {"plan": plan, "latest_analysis": latest})
    if latest is None:
        return response
    return announce_if_finished(response, latest, bool(request.GET.get("was_active")))
