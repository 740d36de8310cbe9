"""Execution, Incident and Alert: what happened when a plan ran, and who was told.

Imported at the end of ``migrations_app.models`` so that Django finds them in this app.
State changes go through ``migrations_app.execution`` (compare-and-set + audit event);
these classes only hold data and small read helpers.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from targets.jobs import Job, job_status

__all__ = ["Alert", "Execution", "Incident", "Severity"]


class Severity(models.TextChoices):
    # the runbook's alert levels; values equal targets.engines.alerts.AlertSeverity values
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"
    CRITICAL = "critical", "Critical"


def _journal_key() -> str:
    return uuid.uuid4().hex


class Execution(Job):
    """One run of a plan's operations (kind=migration) or of a stored rollback plan (kind=rollback)."""

    class Kind(models.TextChoices):
        MIGRATION = "migration", "Migration"
        ROLLBACK = "rollback", "Rollback"

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"
        ROLLED_BACK = "ROLLED_BACK", "Rolled back"
        ROLLBACK_FAILED = "ROLLBACK_FAILED", "Rollback failed"
        REFUSED = "REFUSED", "Refused (gate re-check)"
        # some segments committed, the rest did not run: resume or roll back the committed ones
        PARTIALLY_APPLIED = "PARTIALLY_APPLIED", "Partially applied"
        # an autocommit statement started and the target cannot say whether it finished
        IN_DOUBT = "IN_DOUBT", "Outcome in doubt"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    finished_statuses = (Status.SUCCEEDED, Status.FAILED, Status.ROLLED_BACK, Status.ROLLBACK_FAILED, Status.REFUSED,
                         Status.PARTIALLY_APPLIED, Status.IN_DOUBT)
    job_kind = "execution"

    plan = models.ForeignKey("migrations_app.MigrationPlan", on_delete=models.CASCADE, related_name="executions")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MIGRATION)
    rollback_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="rollbacks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = job_status(Status, Status.QUEUED)
    # names this run's rows in dataflow.migration_journal on the target
    journal_key = models.CharField(max_length=32, default=_journal_key, unique=True, editable=False)
    resume_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="resumes")
    start_operation = models.IntegerField(default=0, help_text="a resume starts at this operation index")
    # operation indices applied on the target after this run, earlier runs of a resume included
    committed_operations = models.JSONField(default=list, blank=True)
    reconciliation = models.JSONField(null=True, blank=True)     # Reconciliation.to_dict(), when read
    # a rollback of a partially applied run: the steps for the applied operations only
    rollback_plan_to_run = models.JSONField(null=True, blank=True)
    sql_hash = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the task process")
    lock_holder = models.CharField(max_length=500, blank=True)
    lock_schemas = models.JSONField(default=list, blank=True)
    backend_pid = models.IntegerField(null=True, blank=True)
    application_name = models.CharField(max_length=63, blank=True)
    statement_log = models.JSONField(default=list, blank=True)   # live during the run, the engine's log after
    result = models.JSONField(null=True, blank=True)             # MigrationResult.to_dict()
    sqlstate = models.CharField(max_length=5, blank=True)
    failure_type = models.CharField(max_length=32, blank=True)
    rollback_executed = models.BooleanField(default=False)
    rows_modified = models.BigIntegerField(default=0)
    digest_before = models.CharField(max_length=64, blank=True)
    digest_after = models.CharField(max_length=64, blank=True)
    # objects added, removed and changed with their definitions, and what the diff starts from
    schema_diff = models.JSONField(null=True, blank=True)
    verified = models.BooleanField(null=True, blank=True)   # rollbacks: schema and data both verified
    schema_verified = models.BooleanField(null=True, blank=True)   # rollbacks: digest equals the pre-migration one
    data_verified = models.BooleanField(null=True, blank=True)     # rollbacks: None = data not checked
    data_verification = models.JSONField(null=True, blank=True)    # engines.rollback.verification
    stop_requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+")
    stop_requested_at = models.DateTimeField(null=True, blank=True)
    duration_alerted_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} of {self.plan}"

    def get_absolute_url(self):
        return reverse("execution_detail", args=[self.pk])

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        return round(((self.finished_at or timezone.now()) - self.started_at).total_seconds(), 1)

    @property
    def rollback_plan(self) -> dict | None:
        return (self.result or {}).get("rollback_plan")

    @property
    def stored_rollback_plan(self) -> dict | None:
        """What a rollback execution runs: its own subset, else the plan of the run it undoes."""
        if self.rollback_plan_to_run is not None:
            return self.rollback_plan_to_run
        return self.rollback_of.rollback_plan if self.rollback_of_id else None

    @property
    def digest_unchanged(self) -> bool | None:
        if not (self.digest_before and self.digest_after):
            return None
        return self.digest_before == self.digest_after


class Incident(models.Model):
    """Runbook "Incident Documentation": timestamp, migration, failure type, impact, recovery."""

    class FailureType(models.TextChoices):
        EXECUTION_FAILED = "execution_failed", "Execution failed"
        COMPENSATED = "compensated", "Failed, completed steps compensated"
        ROLLBACK = "rollback", "Rolled back on request"
        ROLLBACK_FAILED = "rollback_failed", "Rollback failed"
        EMERGENCY_STOP = "emergency_stop", "Emergency stop"
        LOCK_TIMEOUT = "lock_timeout", "Lock timeout (retries exhausted)"
        DURATION_EXCEEDED = "duration_exceeded", "Duration limit exceeded"
        WORKER_LOST = "worker_lost", "Worker lost mid-run"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MITIGATED = "mitigated", "Mitigated"
        RESOLVED = "resolved", "Resolved"

    plan = models.ForeignKey("migrations_app.MigrationPlan", on_delete=models.PROTECT, related_name="incidents")
    execution = models.ForeignKey(Execution, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents")
    target = models.ForeignKey("targets.TargetDatabase", on_delete=models.PROTECT, related_name="incidents")
    severity = models.CharField(max_length=10, choices=Severity.choices, db_index=True)
    failure_type = models.CharField(max_length=32, choices=FailureType.choices, db_index=True)
    title = models.CharField(max_length=255)
    summary = models.TextField(blank=True)
    tables_affected = models.JSONField(default=list, blank=True)   # ["schema.table", ...]
    rows_modified = models.BigIntegerField(default=0)
    recovery_actions = models.JSONField(default=list, blank=True)  # [str]
    timeline = models.JSONField(default=list, blank=True)          # [{"at", "kind", "text", "actor"}]
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    notes = models.JSONField(default=list, blank=True)             # [{"at", "author", "text"}]
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self):
        return f"Incident #{self.pk}: {self.title}"

    def get_absolute_url(self):
        return reverse("incident_detail", args=[self.pk])


class Alert(models.Model):
    """One alert; every delivery attempt is appended to ``attempts`` with per-channel results.
    Channel URLs and keys are never stored here: results carry masked endpoints only."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        PARTIAL = "partial", "Partly sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (no channel configured)"

    severity = models.CharField(max_length=10, choices=Severity.choices, db_index=True)
    subject = models.CharField(max_length=255)
    message = models.TextField()
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    execution = models.ForeignKey(Execution, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    channels = models.JSONField(default=dict, blank=True)   # channel -> latest {"status", "detail", "attempt"}
    attempts = models.JSONField(default=list, blank=True)   # [{"attempt", "at", "results": [...]}]
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"[{self.severity}] {self.subject}"
