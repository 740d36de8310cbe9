"""Baselines pages: runs and validations, measurement form, charts (plotly, served locally)."""

from __future__ import annotations

import ast

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from baselines_app import charts
from baselines_app.forms import MeasureForm, MonitorForm, ResultFilterForm
from baselines_app.models import BaselineRun, PerformanceBaseline, PerformanceValidation
from baselines_app.tasks import MONITOR_SCHEDULE_PREFIX, ensure_monitor_schedule, latest_production_baseline, queue_baseline_run
from dataflow_site.roles import DBA, readers, role_required
from targets.jobs import announce_if_finished
from targets.models import AuditEvent, TargetDatabase


@readers
def baseline_list(request):
    runs = BaselineRun.objects.select_related("target", "staging_environment", "plan")[:100]
    validations = PerformanceValidation.objects.select_related("before_run", "after_run", "after_run__target")[:100]
    if request.htmx and request.GET.get("part") == "runs":  # refreshed when a run ends
        return render(request, "baselines_app/list.html#runs", {"runs": runs, "validations": validations})
    alerts = [v for v in validations if v.alert_message][:20]
    return render(request, "baselines_app/list.html", {"runs": runs, "validations": validations, "alerts": alerts,
                                                       "monitors": _monitors(), "monitor_form": MonitorForm()})


def _monitors() -> list[dict]:
    from django_q.models import Schedule

    rows = []
    for schedule in Schedule.objects.filter(name__startswith=MONITOR_SCHEDULE_PREFIX).order_by("name"):
        target_id = int(schedule.name[len(MONITOR_SCHEDULE_PREFIX):])
        rows.append({"schedule": schedule, "target": TargetDatabase.objects.filter(pk=target_id).first(),
                     "tables": _monitored_tables(schedule.args)})
    return rows


def _monitored_tables(args: str) -> str:
    """The schedule's task arguments (``repr((target_id, tables))``, as django-q2 stores them) said
    for people: the table names, or that every table of the latest baseline is replayed."""
    try:
        _, tables = ast.literal_eval(args or "")
    except (ValueError, SyntaxError, TypeError):
        return "unreadable schedule arguments"
    return ", ".join(str(t) for t in tables) if tables else "every table of the latest baseline"


@role_required(DBA)
@require_POST
def monitor_schedule(request):
    """Start (or change) the monitoring of a production target's read baselines (runbook monitor_performance)."""
    form = MonitorForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a production target and an interval of 5 minutes or more.")
        return redirect("baseline_list")
    data = form.cleaned_data
    if latest_production_baseline(data["target"]) is None:
        messages.error(request, f"Measure a production baseline of {data['target'].name} first: monitoring compares against it.")
        return redirect("baseline_list")
    schedule = ensure_monitor_schedule(data["target"].pk, data["tables"], data["minutes"])
    AuditEvent.record(request.user, "baselines.monitoring_scheduled", data["target"],
                      data={"tables": data["tables"], "minutes": data["minutes"], "schedule": schedule.pk})
    messages.success(request, f"Monitoring {data['target'].name} every {data['minutes']} minutes.")
    return redirect("baseline_list")


@role_required(DBA)
@require_POST
def monitor_stop(request, target_id):
    from django_q.models import Schedule

    target = get_object_or_404(TargetDatabase, pk=target_id)
    deleted, _ = Schedule.objects.filter(name=f"{MONITOR_SCHEDULE_PREFIX}{target.pk}").delete()
    if deleted:
        AuditEvent.record(request.user, "baselines.monitoring_stopped", target)
        messages.success(request, f"Monitoring of {target.name} stopped.")
    return redirect("baseline_list")


@role_required(DBA)
def baseline_measure(request):
    form = MeasureForm(request.POST or None, initial={"target": request.GET.get("target")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        run = queue_baseline_run(
            data["target"], user=request.user, label=data["label"], staging_environment=data["staging_environment"],
            schema=data["schema"], tables_filter=data["tables_filter"], query_types=data["query_types"],
            replay_of=data["replay_of"], compare_with=data["compare_with"],
            kind=BaselineRun.Kind.REPLAY if data["replay_of"] else BaselineRun.Kind.MEASURE)
        return redirect("baseline_run", run_id=run.pk)
    return render(request, "baselines_app/measure.html", {"form": form})


@readers
def baseline_run(request, run_id):
    run = get_object_or_404(BaselineRun.objects.select_related("target", "staging_environment", "replay_of"), pk=run_id)
    form = ResultFilterForm(request.GET or None)
    baselines = form.apply(list(run.baselines.all()))
    rows = [{"label": b.query_label, "before": b.data.get("samples", [])} for b in baselines if b.status == "measured"]
    context = {"run": run, "form": form, "baselines": baselines, "tables": _tables(run.baselines.all(), run.tables_filter),
               "validations": PerformanceValidation.objects.filter(after_run=run).select_related("before_run"),
               "box_plot": charts.samples_box_plot(rows, run.display_label) if rows else ""}
    template = "baselines_app/run.html#results" if request.htmx else "baselines_app/run.html"
    return render(request, template, context)


@readers
def baseline_run_progress(request, run_id):
    """The progress fragment (``?compact=1``: the status pill of a list row); it polls itself only
    while the run is queued or running and announces its end (the results and lists refresh on it)."""
    run = get_object_or_404(BaselineRun, pk=run_id)
    template = "baselines_app/_run_status.html" if request.GET.get("compact") else "baselines_app/_progress.html"
    response = render(request, template, {"run": run})
    return announce_if_finished(response, run, bool(request.GET.get("was_active")))


@readers
def validation_detail(request, validation_id):
    validation = get_object_or_404(
        PerformanceValidation.objects.select_related("before_run", "after_run", "after_run__target"), pk=validation_id)
    report = validation.report
    form = ResultFilterForm(request.GET or None)
    comparisons = form.apply(report.get("comparisons", []))
    before = {b.query_id: b.data for b in validation.before_run.baselines.all()}
    after = {b.query_id: b.data for b in validation.after_run.baselines.all()}
    rows = [{"label": c["query_label"], "before": before.get(c["query_id"], {}).get("samples", []),
             "after": after.get(c["query_id"], {}).get("samples", []),
             "comparison": c, "plan_before": before.get(c["query_id"], {}).get("plan_shape", {}),
             "plan_after": after.get(c["query_id"], {}).get("plan_shape", {})}
            for c in comparisons]
    timed = [r for r in rows if r["before"] or r["after"]]
    context = {
        "validation": validation, "report": report, "form": form, "rows": rows,
        "tables": sorted({c["table_name"] for c in report.get("comparisons", []) if c["table_name"]}),
        "ratio_chart": charts.ratio_chart(comparisons, validation.threshold_multiplier) if timed else "",
        "box_plot": charts.samples_box_plot(timed, report.get("before_label", "before"),
                                            report.get("after_label", "after")) if timed else "",
    }
    template = "baselines_app/validation.html#results" if request.htmx else "baselines_app/validation.html"
    return render(request, template, context)


@readers
def table_history(request, target_id, table):
    target = get_object_or_404(TargetDatabase, pk=target_id)
    query_type = request.GET.get("query_type") or ""
    points = (PerformanceBaseline.objects.filter(run__target=target, table_name=table, status="measured",
                                                 run__status=BaselineRun.Status.DONE)
              .select_related("run").order_by("run__created_at", "query_id"))
    if query_type:
        points = points.filter(query_type=query_type)
    series: dict[str, list[tuple]] = {}
    for point in points:
        series.setdefault(point.query_label, []).append((point.run.created_at, point.median_ms, point.run.display_label))
    return render(request, "baselines_app/history.html", {
        "target": target, "table": table, "query_type": query_type, "series": series,
        "chart": charts.history_chart(series) if series else ""})


def _tables(baselines, chosen=None) -> list[str]:
    """The tables measured so far, and those the run was asked to measure (known before it measures any)."""
    return sorted({b.table_name for b in baselines if b.table_name} | set(chosen or []))
