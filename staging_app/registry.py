"""The engine's ``StagingRegistry`` on the ``StagingEnvironment`` model, and the manager
factory views and tasks use.

The limit ``max_staging_environments`` holds across processes: ``reserve`` counts live rows
and inserts the new one under a transaction-level advisory lock on the app database, so
concurrent creations queue for the few milliseconds of the count-and-insert.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from staging_app.engines.registry import (CLEANED, LIVE_STATUSES, EnvironmentRecord, StagingDatabase,
                                         StagingLimitExceeded)
from staging_app.engines.staging_environment_manager import (StagingEnvironmentConfig, StagingEnvironmentManager,
                                                            StagingServer)
from staging_app.models import StagingClone, StagingEnvironment

# Arbitrary but fixed advisory-lock key: "staging limit" for this app database.
LIMIT_LOCK_KEY = 7_300_155_001
_FIELDS = ("progress", "replication_result", "error", "tables_filter", "masking_rules")


def _record(row: StagingEnvironment) -> EnvironmentRecord:
    return EnvironmentRecord(
        staging_id=row.staging_id, status=row.status, created_at=row.created_at, expires_at=row.expires_at,
        staging_db=StagingDatabase(row.host, row.port, row.database_name, row.db_user),
        production_database=row.production_database, data_sample_size=row.data_sample_size,
        sample_seed=row.sample_seed, tables_filter=row.tables_filter, masking_rules=row.masking_rules or {},
        progress=row.progress or {}, replication_result=row.replication_result, error=row.error,
        updated_at=row.updated_at)


class DjangoStagingRegistry:
    def __init__(self, target=None, user=None):
        self.target = target
        self.user = user if getattr(user, "is_authenticated", False) else None

    def reserve(self, environment: EnvironmentRecord, limit: int) -> None:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LIMIT_LOCK_KEY])
            live = StagingEnvironment.objects.filter(status__in=LIVE_STATUSES).count()
            if live >= limit:
                raise StagingLimitExceeded(f"Maximum staging environments exceeded ({live} of {limit} in use)")
            db = environment.staging_db
            StagingEnvironment.objects.create(
                staging_id=environment.staging_id, target=self.target, created_by=self.user,
                database_name=db.database, host=db.host, port=db.port, db_user=db.user,
                production_database=environment.production_database, status=environment.status,
                data_sample_size=environment.data_sample_size, sample_seed=environment.sample_seed,
                tables_filter=environment.tables_filter, masking_rules=environment.masking_rules,
                created_at=environment.created_at, expires_at=environment.expires_at, updated_at=timezone.now())

    def get(self, staging_id: str) -> EnvironmentRecord | None:
        row = StagingEnvironment.objects.filter(staging_id=staging_id).first()
        return _record(row) if row else None

    def transition(self, staging_id: str, from_statuses, to_status: str, **fields) -> bool:
        values = self._values(fields)
        from_statuses = list(from_statuses)
        # the copy as a job: claimed when replication starts, finished when it is READY or ERROR
        if set(from_statuses) & {StagingEnvironment.queued_status, StagingEnvironment.running_status}:
            values.update(StagingEnvironment.stamps_for(to_status))
        return bool(StagingEnvironment.objects.filter(staging_id=staging_id, status__in=from_statuses)
                    .update(status=to_status, updated_at=timezone.now(), **values))

    def update(self, staging_id: str, **fields) -> None:
        StagingEnvironment.objects.filter(staging_id=staging_id).update(updated_at=timezone.now(), **self._values(fields))

    def active(self) -> dict[str, EnvironmentRecord]:
        return {row.staging_id: _record(row) for row in StagingEnvironment.objects.filter(status__in=LIVE_STATUSES)}

    def known_database_names(self) -> set[str]:
        copies = set(StagingEnvironment.objects.exclude(status=CLEANED).values_list("database_name", flat=True))
        return copies | set(StagingClone.objects.filter(dropped_at__isnull=True).values_list("database_name", flat=True))

    def connections(self, staging_id: str):
        """(production, staging server) TargetConnections rebuilt from the target's credentials."""
        row = StagingEnvironment.objects.select_related("target").filter(staging_id=staging_id).first()
        if row is None or row.target is None:
            return None
        source = row.target.connection()
        server = source.with_options(host=row.host, port=row.port, dbname="postgres")
        return source, server

    @staticmethod
    def _values(fields: dict) -> dict:
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise ValueError(f"registry cannot store {sorted(unknown)}")
        return fields


def config_for(target=None) -> StagingEnvironmentConfig:
    """The runbook's presets: production targets get the strict one, others the development one."""
    if target is not None and target.is_production:
        return StagingEnvironmentConfig.production()
    return StagingEnvironmentConfig.development()


def manager_for(target=None, user=None, config: StagingEnvironmentConfig | None = None) -> StagingEnvironmentManager:
    return StagingEnvironmentManager(config or config_for(target), registry=DjangoStagingRegistry(target, user))


def staging_server_override(target):
    """The target's own staging server, if it names one (same credentials)."""
    if not target.staging_host:
        return None
    return StagingServer(host=target.staging_host, port=target.staging_port or target.port)
