"""App-database models. Business rules live here as methods, views only call them."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from migrations_app.audit_chain import CHAIN_LOCK_KEY, GENESIS, HASHED_FIELDS, ChainReport, row_hash, verify_rows
from migrations_app.crypto import decrypt_secret, encrypt_secret

# The audit trail --------------------------------------------------------------------------


class AuditEvent(models.Model):
    """Append-only and hash-chained (see migrations_app.audit_chain): database triggers refuse
    UPDATE, DELETE and TRUNCATE; every row carries a hash linked to the previous row's."""

    # No FK constraint: deleting a user must not touch (update) the audit trail.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    verb = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Rows that bypass record() would have no hash: refused rather than left unchained.
            models.CheckConstraint(condition=models.Q(row_hash__regex=r"^[0-9a-f]{64}$")
                                   & models.Q(prev_hash__regex=r"^[0-9a-f]{64}$"), name="auditevent_hashes_present"),
        ]

    def __str__(self):
        return f"{self.actor_name or 'system'} {self.verb} {self.object_type} {self.object_id}"

    @classmethod
    def record(cls, actor, verb: str, obj=None, *, object_type: str = "", object_id="", data=None) -> "AuditEvent":
        if obj is not None:
            object_type = object_type or obj._meta.model_name
            object_id = object_id or obj.pk
        event = cls(
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            actor_name=getattr(actor, "username", "") or "system",
            verb=verb,
            object_type=object_type,
            object_id=str(object_id or ""),
            object_repr=str(obj)[:255] if obj is not None else "",
            data=data or {},
        )
        with transaction.atomic():
            event.prev_hash, event.data = cls._lock_chain_head(event.data)
            event.created_at = timezone.now()  # after the lock: chain order is time order
            event.row_hash = row_hash(event.chain_fields(), event.prev_hash)
            event.save(force_insert=True)
        return event

    @classmethod
    def _lock_chain_head(cls, data) -> tuple[str, dict]:
        """Serialise writers until this transaction ends, then read the head. ``data`` comes back
        as jsonb will return it (numbers normalised), so the hash matches what a verifier reads."""
        table = connection.ops.quote_name(cls._meta.db_table)
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
            # A new statement: its snapshot sees the row of the writer we waited for.
            cur.execute(f"SELECT (SELECT row_hash FROM {table} ORDER BY id DESC LIMIT 1), %s::jsonb::text",
                        [json.dumps(data, allow_nan=False)])
            head, normalised = cur.fetchone()
        return head or GENESIS, json.loads(normalised)

    def chain_fields(self) -> dict:
        return {"actor_id": self.actor_id, "actor_name": self.actor_name, "verb": self.verb,
                "object_type": self.object_type, "object_id": self.object_id, "object_repr": self.object_repr,
                "data": self.data, "created_at": self.created_at}

    @classmethod
    def verify_chain(cls, *, anchor: tuple[int, str] | None = None, chunk_size: int = 5000) -> ChainReport:
        rows = (cls.objects.order_by("id").values("id", "prev_hash", "row_hash", *HASHED_FIELDS)
                .iterator(chunk_size=chunk_size))
        return verify_rows(rows, anchor=anchor)


# Target databases ------------------------------------------------------------------------


class TargetDatabase(models.Model):
    class Environment(models.TextChoices):
        PRODUCTION = "production", "Production"
        STAGING = "staging", "Staging"
        DEVELOPMENT = "development", "Development"

    class SSLMode(models.TextChoices):
        DISABLE = "disable", "disable"
        ALLOW = "allow", "allow"
        PREFER = "prefer", "prefer"
        REQUIRE = "require", "require"
        VERIFY_CA = "verify-ca", "verify-ca"
        VERIFY_FULL = "verify-full", "verify-full"

    name = models.CharField(max_length=100, unique=True)
    host = models.CharField(max_length=255, help_text="Host name, IP address, or a Unix socket directory.")
    port = models.PositiveIntegerField(default=5432)
    dbname = models.CharField("database", max_length=63)
    user = models.CharField(max_length=63)
    # Fernet token; the plaintext is never stored. Use the ``password`` property.
    password_encrypted = models.TextField(blank=True, default="")
    sslmode = models.CharField(max_length=16, choices=SSLMode.choices, default=SSLMode.PREFER)
    environment = models.CharField(max_length=16, choices=Environment.choices, default=Environment.DEVELOPMENT)
    staging_host = models.CharField(max_length=255, blank=True,
                                    help_text="Server for staging copies; blank means the target's own server.")
    staging_port = models.PositiveIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    last_health = models.JSONField(null=True, blank=True)
    last_health_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def password(self) -> str:
        return decrypt_secret(self.password_encrypted)

    @password.setter
    def password(self, value: str) -> None:
        self.password_encrypted = encrypt_secret(value) if value else ""

    @property
    def is_production(self) -> bool:
        return self.environment == self.Environment.PRODUCTION

    def connection(self, **overrides):
        from migrations_app.engines.connections import TargetConnection

        return TargetConnection.from_target(self, **overrides)

    def describe(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"

    # Where a plan runs: a sign-off binds these, and changing one voids the sign-offs of open plans.
    CONNECTION_FIELDS = ("host", "port", "dbname", "user")

    def connection_identity(self, schema: str) -> dict:
        return {"host": self.host, "port": int(self.port), "dbname": self.dbname, "user": self.user, "schema": schema}

    def audit_data(self) -> dict:
        """What the audit trail records of a target: everything but the secret."""
        return {
            "name": self.name, "host": self.host, "port": self.port, "dbname": self.dbname,
            "user": self.user, "sslmode": self.sslmode, "environment": self.environment,
            "staging_host": self.staging_host, "staging_port": self.staging_port,
        }

    def record_health(self, report: dict) -> None:
        self.last_health = report
        self.last_health_at = timezone.now()
        self.save(update_fields=["last_health", "last_health_at"])

    @property
    def health_state(self) -> str:
        """ok / warning / down / unknown, for the dashboard."""
        if not self.last_health:
            return "unknown"
        if self.last_health.get("error"):
            return "down"
        if self.last_health.get("warnings"):
            return "warning"
        return "ok"


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


class AnalysisRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"
        STALE = "STALE", "Stale (the SQL changed while it ran)"

    plan = models.ForeignKey(MigrationPlan, on_delete=models.CASCADE, related_name="analyses")
    sql_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    progress = models.JSONField(default=dict, blank=True)
    report = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The target the analysis was requested against: an analysis of another database is not one of this.
    target_identity = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]

    def save(self, *args, **kwargs):
        if self._state.adding and not self.target_identity:
            self.target_identity = self.plan.target.connection_identity(self.plan.schema)
        super().save(*args, **kwargs)

    @property
    def duration_ms(self):
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None


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
from migrations_app.execution_models import *  # noqa: E402,F401,F403  (Execution, Incident, Alert)
