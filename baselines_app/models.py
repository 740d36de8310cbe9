"""Baseline runs, their baselines and validations, in the app database.

The engine's dataclasses are stored whole as JSON (``data`` / ``report``); the columns beside
them are what pages filter and sort on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from baselines_app.engines.comparison import ValidationReport
from baselines_app.engines.measured import QueryBaseline
from targets.jobs import Job, job_status


class BaselineRun(Job):
    class Kind(models.TextChoices):
        MEASURE = "measure", "Measurement"
        REPLAY = "replay", "Replay of an earlier run"
        MONITOR = "monitor", "Production monitoring"
        REHEARSAL = "rehearsal", "Measured in a rehearsal"

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        DONE = "DONE", "Done"
        FAILED = "FAILED", "Failed"

    finished_statuses = (Status.DONE, Status.FAILED)
    job_kind = "baseline_run"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MEASURE)
    status = job_status(Status, Status.QUEUED)
    target = models.ForeignKey("targets.TargetDatabase", on_delete=models.CASCADE, related_name="baseline_runs")
    staging_environment = models.ForeignKey("staging_app.StagingEnvironment", null=True, blank=True,
                                            on_delete=models.SET_NULL, related_name="baseline_runs")
    plan = models.ForeignKey("migrations_app.MigrationPlan", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="baseline_runs")
    # "production", "staging before plan", "staging after plan", ...: shown on every chart
    label = models.CharField(max_length=100)
    data_sample_size = models.FloatField(null=True, blank=True, help_text="Fraction of production rows in a staging copy.")
    database_name = models.CharField(max_length=63, help_text="The database measured (a staging copy or the target).")
    schema = models.CharField(max_length=63, default="public")
    tables_filter = models.JSONField(null=True, blank=True)
    query_types = models.JSONField(default=list)
    production = models.BooleanField(default=False)
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays")
    compare_with = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    config = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.label} ({self.database_name}, {self.created_at:%Y-%m-%d %H:%M})"

    @property
    def queued_at(self):
        """A run is queued when it is created: the one column serves both names."""
        return self.created_at

    @property
    def display_label(self) -> str:
        """The label with the sample size, so nobody reads a 10% copy as production."""
        if self.data_sample_size is not None and not self.production:
            return f"{self.label} ({self.data_sample_size:.0%} sample)"
        return self.label

    @property
    def is_in_flight(self) -> bool:
        return self.is_active

    def engine_baselines(self) -> list:
        return [QueryBaseline.from_dict(row.data) for row in self.baselines.all()]


class PerformanceBaseline(models.Model):
    run = models.ForeignKey(BaselineRun, on_delete=models.CASCADE, related_name="baselines")
    query_id = models.CharField(max_length=300)
    query_type = models.CharField(max_length=8, db_index=True)
    table_name = models.CharField(max_length=63, db_index=True)
    schema = models.CharField(max_length=63)
    query_label = models.CharField(max_length=300)
    status = models.CharField(max_length=16)
    baseline_time_ms = models.FloatField(null=True, blank=True)
    median_ms = models.FloatField(null=True, blank=True)
    p95_ms = models.FloatField(null=True, blank=True)
    data = models.JSONField()
    measured_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["table_name", "query_type", "query_id"]
        constraints = [models.UniqueConstraint(fields=["run", "query_id"], name="baseline_unique_query_per_run")]

    def __str__(self):
        return self.query_label

    @classmethod
    def from_engine(cls, run: BaselineRun, measured) -> "PerformanceBaseline":
        return cls(run=run, query_id=measured.query_id, query_type=measured.query_type, table_name=measured.table_name,
                   schema=measured.schema, query_label=measured.query_label[:300], status=measured.status,
                   baseline_time_ms=measured.baseline_time_ms, median_ms=measured.median_ms, p95_ms=measured.p95_ms,
                   data=measured.to_dict())


class PerformanceValidation(models.Model):
    before_run = models.ForeignKey(BaselineRun, on_delete=models.CASCADE, related_name="validations_as_before")
    after_run = models.ForeignKey(BaselineRun, on_delete=models.CASCADE, related_name="validations_as_after")
    plan = models.ForeignKey("migrations_app.MigrationPlan", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="performance_validations")
    validation_status = models.CharField(max_length=32, db_index=True)
    threshold_multiplier = models.FloatField()
    environment_factor = models.FloatField(default=1.0)
    report = models.JSONField()
    # Monitoring: a WARNING alert text, kept here so the baselines page shows it even before
    # (or without) delivery through the alert channels.
    alert_severity = models.CharField(max_length=16, blank=True)
    alert_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.validation_status}: {self.before_run.label} vs {self.after_run.label}"

    @property
    def passed(self) -> bool:
        return self.validation_status == "PASS"

    def engine_validation(self):
        return ValidationReport.from_dict(self.report)
