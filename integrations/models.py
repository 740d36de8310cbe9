"""What CI integration stores: API tokens, where a plan came from (a branch's files), the per-target
ledger of applied plans, drift findings and outgoing webhook deliveries."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from targets.models import TargetDatabase

TOKEN_PREFIX = "dfk_"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    """A personal API token: ``dfk_<id>_<secret>``. Only the id and the sha256 of the whole token
    are stored; the token itself is shown once, when it is made."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_id = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_from = models.CharField(max_length=64, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):  # the rate limiter keys on this: the id, never the secret
        return f"{TOKEN_PREFIX}{self.key_id}"

    @classmethod
    def issue(cls, user, name: str, scope: str) -> tuple["ApiToken", str]:
        key_id = secrets.token_hex(6)
        token = f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        row = cls.objects.create(user=user, name=name, key_id=key_id, token_hash=hash_secret(token), scope=scope)
        return row, token

    @classmethod
    def find(cls, token: str) -> "ApiToken | None":
        """The live token row for ``token``, compared in constant time; None for anything else."""
        if not token.startswith(TOKEN_PREFIX) or token.count("_") < 2:
            return None
        key_id = token[len(TOKEN_PREFIX):].split("_", 1)[0]
        row = cls.objects.select_related("user").filter(key_id=key_id, revoked_at__isnull=True).first()
        if row is None or not secrets.compare_digest(row.token_hash, hash_secret(token)):
            return None
        return row

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PlanSource(models.Model):
    """The plan a CI branch (``ref``) keeps for one target, and the files it was last built from."""

    target = models.ForeignKey(TargetDatabase, on_delete=models.CASCADE, related_name="+")
    ref = models.CharField(max_length=255)
    plan = models.OneToOneField("migrations_app.MigrationPlan", on_delete=models.CASCADE, related_name="source")
    format = models.CharField(max_length=20)
    files = models.JSONField(default=list)            # [{"path", "sha256"}]
    skipped_versions = models.JSONField(default=list)  # already in the ledger when the files came
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "ref"], name="plan_source_one_plan_per_ref")]


class LedgerEntry(models.Model):
    """One plan executed on a target: what ran, who ran it, how it ended, the schema it left."""

    target = models.ForeignKey(TargetDatabase, on_delete=models.PROTECT, related_name="ledger")
    plan = models.ForeignKey("migrations_app.MigrationPlan", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="ledger_entries")
    execution = models.OneToOneField("migrations_app.Execution", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="ledger_entry")
    versions = models.JSONField(default=list)     # the file versions the plan applied
    files = models.JSONField(default=list)
    sql_hash = models.CharField(max_length=64)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=20)
    schema_digest_after = models.CharField(max_length=64, blank=True)
    schema_snapshot = models.JSONField(default=dict, blank=True)  # object -> definition, for drift diffs
    # digest of the whole database (every user schema) when the snapshot was read; the
    # execution's digest above covers only the schemas the plan touched
    snapshot_digest = models.CharField(max_length=64, blank=True)
    snapshot_note = models.CharField(max_length=500, blank=True)  # why there is no snapshot
    is_baseline = models.BooleanField(default=False)  # accepted drift, not an execution
    note = models.CharField(max_length=500, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name_plural = "ledger entries"


class OperationSource(models.Model):
    """Which migration file (and line, and version) an operation came from. Kept beside the
    operation, so an operation edited on the page keeps its origin until it is removed."""

    operation = models.OneToOneField("migrations_app.PlanOperation", on_delete=models.CASCADE, related_name="source")
    path = models.CharField(max_length=500)
    line = models.PositiveIntegerField(null=True, blank=True)
    version = models.CharField(max_length=200, blank=True)
    rollback_path = models.CharField(max_length=500, blank=True)


class DriftFinding(models.Model):
    """A target whose live schema differs from the snapshot of its last ledger entry. One row per
    distinct live state: a later check that sees the same digest only updates ``last_seen_at``."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted as the new baseline"
        RESOLVED = "resolved", "Resolved (the schema is back to the recorded one)"
        SUPERSEDED = "superseded", "Superseded (a later check or ledger entry replaced it)"

    target = models.ForeignKey(TargetDatabase, on_delete=models.CASCADE, related_name="drift_findings")
    reference = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="drift_findings")
    reference_digest = models.CharField(max_length=64)
    live_digest = models.CharField(max_length=64)
    live_snapshot = models.JSONField(default=dict)  # what "accept as baseline" records
    diff = models.JSONField(default=dict)           # {"changes": [{kind, name, change, before, after, fields}]}
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    alert = models.ForeignKey("migrations_app.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    detected_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    accepted_reason = models.CharField(max_length=500, blank=True)
    baseline = models.OneToOneField(LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="accepted_drift")

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["target"], condition=models.Q(status="open"),
                                               name="drift_one_open_finding_per_target")]

    def __str__(self):
        return f"drift on {self.target} ({self.get_status_display()})"

    @property
    def changes(self) -> list[dict]:
        return self.diff.get("changes", [])


class DriftCheck(models.Model):
    """The last drift check of a target, whatever it found (a clean check leaves no finding)."""

    class Outcome(models.TextChoices):
        CLEAN = "clean", "No drift"
        DRIFTED = "drifted", "Drift"
        BASELINE = "baseline", "First snapshot taken (nothing recorded to compare with)"
        BUSY = "busy", "Skipped: an execution is running on the target"
        ERROR = "error", "Could not read the target"

    target = models.OneToOneField(TargetDatabase, on_delete=models.CASCADE, related_name="drift_check")
    checked_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    live_digest = models.CharField(max_length=64, blank=True)


class WebhookDelivery(models.Model):
    """One event sent to one configured URL; every attempt is appended to ``attempts``. The URL
    may carry a token, so only its masked form and a hash to find it again are stored."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    event = models.CharField(max_length=40, db_index=True)
    payload = models.JSONField()
    endpoint = models.CharField(max_length=255)       # masked: scheme://host:port/***
    endpoint_hash = models.CharField(max_length=64)   # sha256 of the URL, to find it in the settings
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.JSONField(default=list, blank=True)  # [{"attempt", "at", "status", "detail"}]
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event} to {self.endpoint}"
