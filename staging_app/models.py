"""Staging environments in the app database: the registry the engine writes before it
creates any database, so a restart never loses track of a copy."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from staging_app.engines import registry as engine_registry
from targets.jobs import Job, job_status


class StagingEnvironment(Job):
    """A copy is a job while it is made (CREATING is queued, REPLICATING running, READY or ERROR
    its end); cleaning it up later is the registry's business, not the job's."""

    class Status(models.TextChoices):
        CREATING = engine_registry.CREATING, "Creating"
        REPLICATING = engine_registry.REPLICATING, "Replicating"
        READY = engine_registry.READY, "Ready"
        ERROR = engine_registry.ERROR, "Error"
        CLEANING = engine_registry.CLEANING, "Cleaning up"
        CLEANED = engine_registry.CLEANED, "Cleaned up"

    queued_status = Status.CREATING
    running_status = Status.REPLICATING
    finished_statuses = (Status.READY, Status.ERROR)
    job_kind = "staging"

    staging_id = models.CharField(max_length=32, unique=True)
    # Nullable for copies made from the command line; PROTECT because the target's credentials
    # are what the tool needs to drop the copy later.
    target = models.ForeignKey("targets.TargetDatabase", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="staging_environments")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    database_name = models.CharField(max_length=63)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField()
    db_user = models.CharField(max_length=63)
    production_database = models.CharField(max_length=63)
    status = job_status(Status, Status.CREATING)
    data_sample_size = models.FloatField()
    sample_seed = models.BigIntegerField()
    tables_filter = models.JSONField(null=True, blank=True)
    masking_rules = models.JSONField(default=dict, blank=True)
    replication_result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.database_name

    @property
    def queued_at(self):
        """A copy is queued when its registry row is created: the one column serves both names."""
        return self.created_at

    @property
    def is_live(self) -> bool:
        return self.status in engine_registry.LIVE_STATUSES

    @property
    def is_in_flight(self) -> bool:
        return self.status in engine_registry.IN_FLIGHT_STATUSES

    @property
    def progress_percent(self) -> int:
        total = (self.progress or {}).get("tables_total") or 0
        if self.status == self.Status.READY:
            return 100
        return int(100 * (self.progress or {}).get("tables_done", 0) / total) if total else 0

    @property
    def rows_copied(self) -> int:
        if self.replication_result:
            return self.replication_result.get("total_rows_sampled", 0)
        return (self.progress or {}).get("rows_copied", 0)

    @property
    def age(self):
        return timezone.now() - self.created_at


class StagingClone(models.Model):
    """The registry row of a rehearsal's own database, cloned from a READY copy (which stays
    pristine) and dropped after the rehearsal: the guard drops it only while this row says it
    exists. ``rehearsal_id`` names the plans layer's rehearsal without a foreign key upward."""

    environment = models.ForeignKey(StagingEnvironment, on_delete=models.PROTECT, related_name="clones")
    rehearsal_id = models.PositiveIntegerField(unique=True)
    database_name = models.CharField(max_length=63, unique=True)
    clone_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dropped_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.database_name


class StagingOrphan(models.Model):
    """A database with the staging marker that the registry does not know, found by the sweeper.
    It is reported for a DBA to inspect, never dropped automatically."""

    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField()
    database_name = models.CharField(max_length=63)
    marker = models.TextField(blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [models.UniqueConstraint(fields=["host", "port", "database_name"], name="staging_orphan_unique")]

    def __str__(self):
        return f"{self.host}:{self.port}/{self.database_name}"


class TargetMaskingRules(models.Model):
    """A target's saved masking rules (``table.column`` -> strategy), applied to every staging copy
    of that target unless the DBA chooses otherwise on the create form."""

    target = models.OneToOneField("targets.TargetDatabase", on_delete=models.CASCADE, related_name="masking")
    rules = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"masking rules of {self.target}"

    def as_text(self) -> str:
        return rules_as_text(self.rules)


def rules_as_text(rules: dict) -> str:
    """The create form's one-rule-a-line notation: ``table.column strategy [value]``."""
    lines = []
    for column, spec in sorted((rules or {}).items()):
        spec = {"strategy": spec} if isinstance(spec, str) else spec
        value = spec.get("value")
        lines.append(" ".join(str(p) for p in (column, spec.get("strategy"), value) if p not in (None, "")))
    return "\n".join(lines)
