"""django-q2 tasks: thin wrappers over the baselines engine. They take ids, never objects or
secrets, and are safe to deliver twice (a run moves QUEUED -> RUNNING by compare-and-set
before any work).

``monitor_performance`` is the runbook's monitoring loop as a schedule: it replays the read
queries of the target's latest production baseline, read-only, and records a WARNING alert
on the validation when a query is more than ``performance_degradation_threshold`` times slower.
The alert is raised through ``targets.signals.raise_alert`` (the plans layer stores it and
delivers it to the channels by its own task); the text is also kept on the validation for the baselines page.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from baselines_app.engines.baselines import measure_performance_baselines, remeasure_baselines, validate_performance
from baselines_app.models import BaselineRun, PerformanceBaseline, PerformanceValidation
from staging_app.registry import config_for
from targets.jobs import enqueue_on_commit
from targets.models import AuditEvent, TargetDatabase
from targets.signals import raise_alert

log = logging.getLogger(__name__)
MONITOR_SCHEDULE_PREFIX = "baselines: monitor target "


def _config(target):
    return config_for(target)


def connection_for(run: BaselineRun):
    """The measured database: the staging copy's when the run names one, else the target's."""
    connection = run.target.connection()
    env = run.staging_environment
    if env is not None and not run.production:
        return connection.with_options(host=env.host, port=env.port, dbname=env.database_name)
    return connection


def queue_baseline_run(target: TargetDatabase, *, user=None, label: str, **fields) -> BaselineRun:
    """Create a QUEUED run and hand it to the cluster once it is committed (``sync`` in tests runs it then)."""
    env = fields.get("staging_environment")
    production = fields.pop("production", env is None and target.is_production)
    run = BaselineRun.objects.create(
        target=target, created_by=user if getattr(user, "is_authenticated", False) else None, label=label,
        production=production, database_name=env.database_name if env is not None else target.dbname,
        data_sample_size=env.data_sample_size if env is not None else None, **fields)
    AuditEvent.record(user, "baselines.queued", run, data={"label": run.display_label, "production": production})
    enqueue_on_commit("baselines_app.tasks.run_baseline_measurement", run.pk, name="baselines", group="baselines")
    return run


def _store(run: BaselineRun, measured: list) -> None:
    PerformanceBaseline.objects.bulk_create([PerformanceBaseline.from_engine(run, m) for m in measured])


def record_validation(before: BaselineRun, after: BaselineRun, config, *, threshold=None) -> PerformanceValidation:
    judged = validate_performance(before.engine_baselines(), after.engine_baselines(), config, threshold,
                                  before_label=before.display_label, after_label=after.display_label)
    return PerformanceValidation.objects.create(
        before_run=before, after_run=after, plan=after.plan or before.plan, validation_status=judged.validation_status,
        threshold_multiplier=judged.threshold_multiplier, environment_factor=judged.environment_factor,
        report=judged.to_dict())


def run_baseline_measurement(run_id: int) -> str:
    run = BaselineRun.objects.select_related("target", "staging_environment", "replay_of", "compare_with").get(pk=run_id)
    if not run.claim(progress={"done": 0, "total": 0, "step": "starting"}):
        return "already taken"
    config = _config(run.target)

    def progress(done: int, total: int, step: str) -> None:
        run.set_progress({"done": done, "total": total, "step": step})

    try:
        connection = connection_for(run)
        if run.replay_of is not None:
            measured = remeasure_baselines(connection, run.replay_of.engine_baselines(), config,
                                           production=run.production, progress=progress)
        else:
            measured = measure_performance_baselines(connection, run.tables_filter, run.query_types or ("SELECT",),
                                                     run.schema, config, production=run.production, progress=progress)
        _store(run, measured)
        if run.compare_with is not None:
            record_validation(run.compare_with, run, config)
    except Exception as exc:  # the engine fails closed; the page shows the exact error
        run.finish(BaselineRun.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}")
        return "failed"
    run.finish(BaselineRun.Status.DONE)
    return "done"


def latest_production_baseline(target: TargetDatabase) -> BaselineRun | None:
    return (BaselineRun.objects.filter(target=target, production=True, status=BaselineRun.Status.DONE,
                                       kind=BaselineRun.Kind.MEASURE).order_by("-created_at", "-id").first())


def monitor_performance(target_id: int, tables: list[str] | None = None) -> dict:
    """Re-measure the read baselines of ``tables`` (all when None) on production and compare."""
    target = TargetDatabase.objects.get(pk=target_id)
    reference = latest_production_baseline(target)
    if reference is None:
        return {"target": target_id, "skipped": "no production baseline to monitor against"}
    config = _config(target)
    reads = [b for b in reference.engine_baselines()
             if b.query_type == "SELECT" and (tables is None or b.table_name in tables)]
    run = BaselineRun.objects.create(kind=BaselineRun.Kind.MONITOR, status=BaselineRun.Status.RUNNING, target=target,
                                     label="production (monitoring)", database_name=target.dbname, production=True,
                                     schema=reference.schema, tables_filter=tables, query_types=["SELECT"],
                                     replay_of=reference, started_at=timezone.now())
    try:
        _store(run, remeasure_baselines(target.connection(), reads, config, production=True))
    except Exception as exc:
        run.finish(BaselineRun.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}")
        return {"target": target_id, "run": run.pk, "error": str(exc)}
    run.finish(BaselineRun.Status.DONE)
    # Compare only the queries replayed: the reference's writes and other tables are not monitored.
    validation = PerformanceValidation.objects.create(
        before_run=reference, after_run=run, **_judge(reads, run, config, reference, target))
    if validation.alert_message:
        AuditEvent.record(None, "baselines.degradation_alert", validation, data={"message": validation.alert_message})
        log.warning("%s", validation.alert_message)
        raise_alert(validation.alert_severity, f"Performance degradation on {target.name}",
                    f"{validation.alert_message}\n{_validation_url(validation)}")
    return {"target": target_id, "run": run.pk, "validation": validation.pk, "status": validation.validation_status}


def _validation_url(validation: PerformanceValidation) -> str:
    from django.conf import settings
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse("baseline_validation", args=[validation.pk])
    except NoReverseMatch:  # the baselines pages are not mounted in this URLconf
        return ""
    return f"{getattr(settings, 'DATAFLOW_BASE_URL', '').rstrip('/')}{path}"


def _judge(reads, run, config, reference, target) -> dict:
    judged = validate_performance(reads, run.engine_baselines(), config, before_label=reference.display_label,
                                  after_label=run.display_label)
    fields = dict(validation_status=judged.validation_status, threshold_multiplier=judged.threshold_multiplier,
                  environment_factor=judged.environment_factor, report=judged.to_dict())
    if judged.degradations:
        worst = max(judged.degradations, key=lambda d: d.performance_ratio)
        fields["alert_severity"] = "warning"
        fields["alert_message"] = (
            f"Performance degradation on {target.name}: {worst.query_label} is {worst.performance_ratio:.1f}x slower "
            f"than its baseline of {reference.created_at:%Y-%m-%d %H:%M} (threshold {judged.threshold_multiplier:g}x"
            f"{'; ' + worst.plan_change if worst.plan_change else ''}); {len(judged.degradations)} queries degraded.")
    return fields


def ensure_monitor_schedule(target_id: int, tables: list[str] | None = None, minutes: int = 60):
    """Create or update the django-q2 schedule that runs ``monitor_performance`` for a target."""
    from django_q.models import Schedule

    schedule, _ = Schedule.objects.update_or_create(
        name=f"{MONITOR_SCHEDULE_PREFIX}{target_id}",
        defaults={"func": "baselines_app.tasks.monitor_performance", "args": repr((target_id, tables)),
                  "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1})
    return schedule
