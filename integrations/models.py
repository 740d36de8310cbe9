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
