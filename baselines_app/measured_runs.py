"""Baselines measured elsewhere (a plan's rehearsal on a staging copy) stored as baseline runs, so
the Baselines pages list, chart and compare them like the runs measured from the Measure form."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from baselines_app.engines.measured import QueryBaseline
from baselines_app.models import BaselineRun, PerformanceBaseline, PerformanceValidation


def record_measured_run(environment, *, label: str, schema: str, measured: list[dict], started_at, plan=None,
                        replay_of: BaselineRun | None = None) -> BaselineRun:
    """One finished run on a staging copy from the engine's baselines (``QueryBaseline.to_dict()``)."""
    baselines = [QueryBaseline.from_dict(row) for row in measured]
    with transaction.atomic():
        run = BaselineRun.objects.create(
            kind=BaselineRun.Kind.REHEARSAL, status=BaselineRun.Status.DONE, target=environment.target,
            staging_environment=environment, plan=plan, label=label[:100], production=False,
            data_sample_size=environment.data_sample_size, database_name=environment.database_name, schema=schema,
            tables_filter=sorted({b.table_name for b in baselines if b.table_name}) or None,
            query_types=sorted({b.query_type for b in baselines}), replay_of=replay_of, started_at=started_at,
            finished_at=timezone.now())
        PerformanceBaseline.objects.bulk_create([PerformanceBaseline.from_engine(run, b) for b in baselines])
    return run


def record_measured_validation(before: BaselineRun, after: BaselineRun, report: dict, plan=None) -> PerformanceValidation:
    """The validation the engine already judged (``ValidationReport.to_dict()``), stored as is."""
    return PerformanceValidation.objects.create(
        before_run=before, after_run=after, plan=plan, validation_status=report["validation_status"],
        threshold_multiplier=report["threshold_multiplier"], environment_factor=report.get("environment_factor", 1.0),
        report=report)
