"""The plans layer's models: plans, operations, analyses and sign-offs (executions, incidents,
alerts and rehearsals come from ``execution_models``). Models hold data and small derived facts;
the rules that move a plan are in ``workflow``, who may act in ``permissions``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from staging_app.models import StagingEnvironment
from targets.jobs import Job, job_status
from targets.models import TargetDatabase

# Migration plans ---------------------------------------------------------------------------


class PlanStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    ANALYZING = "ANALYZING", "Analysing"
    IN_REVIEW = "IN_REVIEW", "In review"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"
    EXECUTING = "EXECUTING", "Executing"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"
    ROLLED_BACK = "ROLLED_BACK", "Rolled back"
    ROLLBACK_FAILED = "ROLLBACK_FAILED", "Rollback failed"
    # committed segments on the target and more to run: never re-run from the start
    PARTIALLY_APPLIED = "PARTIALLY_APPLIED", "Partially applied"


class RiskLevel(models.TextChoices):
    LOW = "LOW", "Low"
    MEDIUM = "MEDIUM", "Medium"
    HIGH = "HIGH", "High"
    CRITICAL = "CRITICAL", "Critical"


class MigrationPlan(models.Model):
    title = models.CharField(max_length=200)
    target = models.ForeignKey(TargetDatabase, on_delete=models.PROTECT, related_name="plans")
    schema = models.CharField(max_length=63, default="public",
                              help_text="Schema that unqualified names in the SQL refer to.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_plans")
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT, db_index=True)
    sql_hash = models.CharField(max_length=64, blank=True)
    # Denormalised from the latest successful analysis of this sql_hash, for lists and filters.
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True, db_index=True)
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    # Pre-migration checklist (runbook: Backup Verification), for production targets.
    backup_completed = models.BooleanField(default=False)
    backup_verified = models.BooleanField(default=False)
    rto_confirmed = models.BooleanField(default=False)
    rpo_confirmed = models.BooleanField(default=False)
    checklist_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    checklist_at = models.DateTimeField(null=True, blank=True)
    # A plan whose statements need longer than the executor's statement_timeout says so here,
    # where reviewers see and sign it (the statement policy refuses SET statement_timeout in SQL).
    statement_timeout_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Longer statement timeout this plan needs (seconds); blank: the default.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("plan_detail", args=[self.pk])

    @property
    def checklist_complete(self) -> bool:
        return self.backup_completed and self.backup_verified and self.rto_confirmed and self.rpo_confirmed


class PlanOperation(models.Model):
    """The runbook's MigrationOperation, stored: one statement of a plan with its rollback."""

    plan = models.ForeignKey(MigrationPlan, on_delete=models.CASCADE, related_name="operations")
    position = models.PositiveIntegerField()
    type = models.CharField(max_length=40)
    schema_name = models.CharField(max_length=63, blank=True)
    table = models.CharField(max_length=63, blank=True)
    column = models.CharField(max_length=63, blank=True)
    sql = models.TextField()
    rollback_sql = models.TextField(blank=True)
    rollback_note = models.CharField(max_length=500, blank=True)
    line = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.position}. {self.type} {self.table}"

    @property
    def table_name(self) -> str:  # runbook name
        return self.table


class AnalysisRun(Job):
    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"
        STALE = "STALE", "Stale (the SQL changed while it ran)"

    finished_statuses = (Status.SUCCEEDED, Status.FAILED, Status.STALE)
    job_kind = "analysis"

    plan = models.ForeignKey(MigrationPlan, on_delete=models.CASCADE, related_name="analyses")
    sql_hash = models.CharField(max_length=64)
    status = job_status(Status, Status.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    report = models.JSONField(null=True, blank=True)
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    # The target the analysis was requested against: an analysis of another database is not one of this.
    target_identity = models.JSONField(default=dict, blank=True)
    # Stored when the analysis finishes (migrations_app/report_store.py): the report without its
    # per-statement lists, which pages read instead of the whole report, and the analysis digest
    # the review version binds (the gate and the executor recompute it from the report).
    summary = models.JSONField(null=True, blank=True)
    digest = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]

    def save(self, *args, **kwargs):
        if self._state.adding and not self.target_identity:
            self.target_identity = self.plan.target.connection_identity(self.plan.schema)
        super().save(*args, **kwargs)

    @property
    def report_summary(self) -> dict:
        """The stored summary (or one made from the report for rows stored without it)."""
        from migrations_app.report_store import summary_of

        return summary_of(self)


class SignOff(models.Model):
    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        REVIEW = "review", "Reviewed"
        REJECT = "reject", "Reject"

    plan = models.ForeignKey(MigrationPlan, on_delete=models.CASCADE, related_name="sign_offs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sign_offs")
    role = models.CharField(max_length=20)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True)
    sql_hash = models.CharField(max_length=64)
    # What the signer saw, bound: the review version (sha256 over sql_hash, target identity and the
    # analysis) and its parts, so the gate can say which part changed.
    review_hash = models.CharField(max_length=64, blank=True)
    target_identity = models.JSONField(default=dict, blank=True)
    analysis = models.ForeignKey(AnalysisRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    risk_level = models.CharField(max_length=10, blank=True)
    voided = models.BooleanField(default=False)
    voided_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]


# Rehearsals: a plan's SQL run on a staging copy -------------------------------------------


class Rehearsal(Job):
    """One rehearsal of a plan's exact SQL (``sql_hash``) on a staging copy: forward, baselines,
    rollback verified (schema by digest, data by checksum), re-apply. What the sign-off gate's "staging
    validation" reads (``staging_validation``)."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        PASSED = "PASSED", "Passed"
        FAILED = "FAILED", "Failed"

    finished_statuses = (Status.PASSED, Status.FAILED)
    job_kind = "rehearsal"

    plan = models.ForeignKey(MigrationPlan, on_delete=models.CASCADE, related_name="rehearsals")
    sql_hash = models.CharField(max_length=64, db_index=True)
    # PROTECT: the registry row outlives its database (CLEANED), so the rehearsal keeps its copy's story.
    environment = models.ForeignKey(StagingEnvironment, on_delete=models.PROTECT, related_name="rehearsals")
    status = job_status(Status, Status.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    measure_baselines = models.BooleanField(default=True)
    sample_fraction = models.FloatField(null=True, blank=True)
    statements = models.JSONField(default=list, blank=True)          # per statement: duration, locks, rewrite, projection
    forward_result = models.JSONField(null=True, blank=True)
    rollback_result = models.JSONField(null=True, blank=True)
    reapply_result = models.JSONField(null=True, blank=True)
    baselines_before = models.JSONField(null=True, blank=True)
    baselines_after = models.JSONField(null=True, blank=True)
    validation = models.JSONField(null=True, blank=True)
    # the same measurements as baseline runs, so they are listed under Baselines with the rest
    baseline_run_before = models.ForeignKey("baselines_app.BaselineRun", null=True, blank=True,
                                            on_delete=models.SET_NULL, related_name="rehearsals_before")
    baseline_run_after = models.ForeignKey("baselines_app.BaselineRun", null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="rehearsals_after")
    validation_status = models.CharField(max_length=24, blank=True)
    baseline_error = models.TextField(blank=True)
    digest_before = models.CharField(max_length=64, blank=True)
    digest_after_forward = models.CharField(max_length=64, blank=True)
    digest_after_rollback = models.CharField(max_length=64, blank=True)
    digest_after_reapply = models.CharField(max_length=64, blank=True)
    rollback_verified = models.BooleanField(default=False)          # schema AND data verified
    rollback_schema_verified = models.BooleanField(default=False)   # digest after the rollback equals before
    rollback_data_status = models.CharField(max_length=20, blank=True)   # engines.rollback.verification
    rollback_data_summary = models.TextField(blank=True)
    digest_differences = models.JSONField(default=dict, blank=True)
    projection = models.JSONField(null=True, blank=True)
    projected_lock_ms = models.FloatField(null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "staging_app_rehearsal"  # moved from staging_app in state only: the rows stayed
        ordering = ["-queued_at", "-id"]

    def __str__(self):
        return f"rehearsal {self.pk} of plan {self.plan_id} on {self.environment_id}"

    @property
    def is_current(self) -> bool:
        """Of the plan's SQL as it is now (an edit changes the hash and the rehearsal stops counting)."""
        return self.sql_hash == self.plan.sql_hash

    @property
    def progress_percent(self) -> int:
        if not self.is_active:
            return 100
        step, steps = (self.progress or {}).get("step", 0), (self.progress or {}).get("steps") or 6
        return int(100 * max(0, step - 1) / steps)

    def risk_input(self) -> dict:
        """What the risk assessment takes from a passed rehearsal (``analyze_plan(rehearsal=...)``)."""
        return {"rehearsal_id": self.pk, "sql_hash": self.sql_hash, "sample_fraction": self.sample_fraction,
                "projection": self.projection or {}}


from migrations_app.execution_models import *  # noqa: E402,F401,F403  (Execution, Incident, Alert)
from migrations_app.policy_models import ReviewPolicyVersion  # noqa: E402,F401
from migrations_app.review_models import PlanComment, PlanVersion  # noqa: E402,F401
