"""App-database models. Business rules live here as methods, views only call them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from migrations_app.crypto import decrypt_secret, encrypt_secret

# The audit trail --------------------------------------------------------------------------


class AuditEvent(models.Model):
    """Append-only: a database trigger (migration 0002) refuses UPDATE and DELETE."""

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

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.actor_name or 'system'} {self.verb} {self.object_type} {self.object_id}"

    @classmethod
    def record(cls, actor, verb: str, obj=None, *, object_type: str = "", object_id="", data=None) -> "AuditEvent":
        if obj is not None:
            object_type = object_type or obj._meta.model_name
            object_id = object_id or obj.pk
        return cls.objects.create(
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            actor_name=getattr(actor, "username", "") or "system",
            verb=verb,
            object_type=object_type,
            object_id=str(object_id or ""),
            object_repr=str(obj)[:255] if obj is not None else "",
            data=data or {},
        )


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
