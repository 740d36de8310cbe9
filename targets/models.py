"""The bottom layer's models: target databases and the audit trail every layer writes to.

Both keep the tables they were created with in migrations_app (``Meta.db_table``): they moved
here in state only, so no row moved and no table was dropped."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from targets.audit_chain import CHAIN_LOCK_KEY, GENESIS, HASHED_FIELDS, ChainReport, row_hash, verify_rows
from targets.crypto import decrypt_secret, encrypt_secret
from targets.engines.connections import TargetConnection

# The audit trail --------------------------------------------------------------------------


class AuditEvent(models.Model):
    """Append-only and hash-chained (see targets.audit_chain): database triggers refuse
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
        db_table = "migrations_app_auditevent"
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
        db_table = "migrations_app_targetdatabase"
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
