"""The runbook's Staging Environment Manager (synchronous, framework-free).

    config = StagingEnvironmentConfig.production()
    manager = StagingEnvironmentManager(config, registry=...)
    env = manager.create_staging_environment(ProductionDatabase(...), data_sample_size=0.1)
    result = manager.replicate_production_schema(env.staging_id, tables_filter=["orders"])
    manager.cleanup_staging_environment(env.staging_id)["cleanup_status"]  # "SUCCESS"

A staging copy is a database ``dataflow_stg_<12 hex>`` on the staging server (production's own
server unless an override names another). The registry row is written first, then the
database is created and marked with ``COMMENT ON DATABASE``. Nothing is ever dropped unless
the name prefix, the marker and the registry row agree (``guard.drop_staging_database``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import uuid
from typing import Callable, Iterable

from psycopg import sql

from staging_app.engines import guard
from staging_app.engines.guard import STAGING_PREFIX, CleanupRefused, marker_for
from staging_app.engines.masking import parse_masking_rules, rules_to_dict
from targets.engines.connections import TargetConnection
from staging_app.engines.registry import (CLEANED, CLEANING, CREATING, ERROR, IN_FLIGHT_STATUSES, LIVE_STATUSES,
                                          READY, REPLICATING, EnvironmentRecord, InMemoryRegistry, StagingDatabase,
                                          StagingLimitExceeded, StagingRegistry)
from staging_app.engines.replication import ReplicationRequest, ReplicationResult, replicate

__all__ = ["StagingEnvironmentConfig", "StagingEnvironmentManager", "ProductionDatabase", "StagingServer",
           "EnvironmentRecord", "StagingLimitExceeded", "StagingEnvironmentError", "ReplicationResult"]


class StagingEnvironmentError(RuntimeError):
    """A staging environment cannot be created, replicated or found. Safe to show."""


@dataclasses.dataclass(frozen=True)
class StagingEnvironmentConfig:
    default_data_sample_size: float = 0.1
    max_staging_environments: int = 5
    cleanup_timeout_seconds: int = 300
    performance_baselines_enabled: bool = True
    baseline_query_timeout_seconds: int = 30
    performance_degradation_threshold: float = 2.0
    min_baseline_queries: int = 5
    auto_cleanup_hours: int = 24
    # Beyond the runbook: how rows are sampled and how long one COPY may run on production.
    sampling_method: str = "AUTO"  # SYSTEM for heaps of 10 MB and more, BERNOULLI below (sampling.py)
    copy_statement_timeout_seconds: int = 900

    def __post_init__(self):
        if not 0 < self.default_data_sample_size <= 1:
            raise ValueError("default_data_sample_size must be in (0, 1]")
        if self.max_staging_environments < 1:
            raise ValueError("max_staging_environments must be at least 1")
        if self.performance_degradation_threshold <= 1:
            raise ValueError("performance_degradation_threshold is a slowdown ratio and must exceed 1")
        for name in ("cleanup_timeout_seconds", "baseline_query_timeout_seconds", "min_baseline_queries",
                     "auto_cleanup_hours", "copy_statement_timeout_seconds"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")

    @classmethod
    def production(cls) -> "StagingEnvironmentConfig":
        """The runbook's production template."""
        return cls(default_data_sample_size=0.05, max_staging_environments=3, cleanup_timeout_seconds=600,
                   performance_baselines_enabled=True, baseline_query_timeout_seconds=30,
                   performance_degradation_threshold=1.5, min_baseline_queries=10, auto_cleanup_hours=12)

    @classmethod
    def development(cls) -> "StagingEnvironmentConfig":
        """The runbook's development template."""
        return cls(default_data_sample_size=0.5, max_staging_environments=10, cleanup_timeout_seconds=300,
                   performance_baselines_enabled=False, auto_cleanup_hours=48)

    def baseline_policy(self) -> dict:
        """What the baselines app applies to measurements on this manager's environments."""
        return {"enabled": self.performance_baselines_enabled,
                "query_timeout_seconds": self.baseline_query_timeout_seconds,
                "degradation_threshold": self.performance_degradation_threshold,
                "min_queries": self.min_baseline_queries}


@dataclasses.dataclass(frozen=True)
class ProductionDatabase:
    host: str
    port: int
    database: str
    user: str
    password: str = dataclasses.field(default="", repr=False)
    sslmode: str = "prefer"

    def connection(self) -> TargetConnection:
        return TargetConnection(host=self.host, port=int(self.port), dbname=self.database, user=self.user,
                                password=self.password, sslmode=self.sslmode)

    @classmethod
    def from_target_connection(cls, conn: TargetConnection) -> "ProductionDatabase":
        return cls(conn.host, conn.port, conn.dbname, conn.user, conn.password, conn.sslmode)


@dataclasses.dataclass(frozen=True)
class StagingServer:
    """``staging_db_override``: another server (and credentials) to host the copy."""
    host: str
    port: int = 5432
    user: str = ""
    password: str = dataclasses.field(default="", repr=False)
    sslmode: str = "prefer"
    maintenance_database: str = "postgres"


def _server_for(source: TargetConnection, override) -> TargetConnection:
    if override is None:
        return source.for_database("postgres")
    if isinstance(override, TargetConnection):
        return override
    if isinstance(override, dict):
        override = StagingServer(**override)
    return TargetConnection(host=override.host, port=int(override.port), dbname=override.maintenance_database,
                            user=override.user or source.user, password=override.password if override.user else source.password,
                            sslmode=override.sslmode)


class StagingEnvironmentManager:
    def __init__(self, config: StagingEnvironmentConfig | None = None, registry: StagingRegistry | None = None):
        self.config = config or StagingEnvironmentConfig()
        self.registry = registry if registry is not None else InMemoryRegistry()
        # Credentials stay in process memory; a registry that persists rows (Django) rebuilds
        # them from the target in ``connections(staging_id)``.
        self._connections: dict[str, tuple[TargetConnection, TargetConnection]] = {}

    # -- the runbook API -------------------------------------------------------------------------
    @property
    def active_environments(self) -> dict[str, EnvironmentRecord]:
        return self.registry.active()

    def create_staging_environment(self, production_db, data_sample_size: float | None = None,
                                   staging_db_override=None, *, tables_filter: list[str] | None = None,
                                   masking_rules=None, sample_seed: int | None = None) -> EnvironmentRecord:
        source = production_db.connection() if isinstance(production_db, ProductionDatabase) else production_db
        server = _server_for(source, staging_db_override)
        fraction = self.config.default_data_sample_size if data_sample_size is None else float(data_sample_size)
        if not 0 < fraction <= 1:
            raise StagingEnvironmentError(f"data_sample_size must be in (0, 1], got {fraction}")
        rules = parse_masking_rules(masking_rules)
        staging_id = uuid.uuid4().hex[:12]
        database = f"{STAGING_PREFIX}{staging_id}"
        now = dt.datetime.now(dt.timezone.utc)
        env = EnvironmentRecord(
            staging_id=staging_id, status=CREATING, created_at=now,
            expires_at=now + dt.timedelta(hours=self.config.auto_cleanup_hours),
            staging_db=StagingDatabase(server.host, server.port, database, server.user),
            production_database=source.dbname, data_sample_size=fraction,
            sample_seed=sample_seed if sample_seed is not None else secrets.randbelow(2**31),
            tables_filter=list(tables_filter) if tables_filter is not None else None,
            masking_rules=rules_to_dict(rules))
        self.registry.reserve(env, self.config.max_staging_environments)  # row first, then the database
        self._connections[staging_id] = (source, server)
        try:
            with server.connect(autocommit=True, application_name=f"dataflow-staging {staging_id}") as conn:
                encoding = self._source_encoding(source)
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING {}").format(
                    sql.Identifier(database), sql.Literal(encoding)))
                conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(database), sql.Literal(marker_for(staging_id))))
        except Exception as exc:
            self._fail(staging_id, server, database, f"creating {database} failed: {_first_line(exc)}", CREATING)
            raise StagingEnvironmentError(f"creating {database} failed: {_first_line(exc)}") from None
        return self.registry.get(staging_id)

    def replicate_production_schema(self, staging_id: str, include_data: bool = True,
                                    tables_filter: list[str] | None = None, masking_rules=None,
                                    progress: Callable[[dict], None] | None = None) -> ReplicationResult:
        env = self._get(staging_id)
        source, server = self._connections_for(staging_id)
        rules = parse_masking_rules(masking_rules) if masking_rules is not None else parse_masking_rules(env.masking_rules)
        tables_filter = list(tables_filter) if tables_filter is not None else env.tables_filter
        start = {"phase": "starting", "tables_done": 0, "tables_total": 0, "rows_copied": 0}
        if not self.registry.transition(staging_id, [CREATING], REPLICATING, progress=start,
                                        tables_filter=tables_filter, masking_rules=rules_to_dict(rules)):
            raise StagingEnvironmentError(f"staging environment {staging_id} is {env.status}; only a new one is replicated")
        request = ReplicationRequest(staging_id=staging_id, include_data=include_data,
                                     data_sample_size=env.data_sample_size, sample_seed=env.sample_seed,
                                     tables_filter=tables_filter, masking_rules=rules,
                                     sampling_method=self.config.sampling_method,
                                     statement_timeout_ms=self.config.copy_statement_timeout_seconds * 1000)

        def report(state: dict) -> None:
            self.registry.update(staging_id, progress=state)
            if progress is not None:
                progress(state)

        staging = server.for_database(env.database_name)
        try:
            result = replicate(source, staging, request, report)
        except BaseException as exc:  # also KeyboardInterrupt/SystemExit: never leave the copy behind
            self._fail(staging_id, server, env.database_name, f"replication failed: {_first_line(exc)}", REPLICATING)
            if isinstance(exc, Exception):
                raise StagingEnvironmentError(f"replication of {staging_id} failed: {_first_line(exc)}") from exc
            raise
        self.registry.transition(staging_id, [REPLICATING], READY, replication_result=result.to_dict(),
                                 progress={**_last_progress(self.registry, staging_id), "phase": "done"})
        return result

    def cleanup_staging_environment(self, staging_id: str) -> dict:
        env = self.registry.get(staging_id)
        base = {"staging_id": staging_id, "database": env.database_name if env else None}
        if env is None:
            return {**base, "cleanup_status": "REFUSED",
                    "message": f"no staging environment {staging_id!r} in the registry: the tool did not create it"}
        if env.status == CLEANED:
            return {**base, "cleanup_status": "SUCCESS", "message": "already cleaned up"}
        try:
            source, server = self._connections_for(staging_id)
            guard.check_drop_allowed(server, env.database_name, staging_id, production_database=env.production_database,
                                     production_server=(source.host, source.port))
        except CleanupRefused as exc:
            return {**base, "cleanup_status": "REFUSED", "message": str(exc)}
        except Exception as exc:
            return {**base, "cleanup_status": "FAILED", "message": _first_line(exc)}
        self.registry.transition(staging_id, [*LIVE_STATUSES, ERROR], CLEANING)
        try:
            outcome = guard.drop_staging_database(server, env.database_name, staging_id,
                                                  production_database=env.production_database,
                                                  production_server=(source.host, source.port),
                                                  timeout_seconds=self.config.cleanup_timeout_seconds)
        except CleanupRefused as exc:
            self.registry.transition(staging_id, [CLEANING], ERROR, error=str(exc))
            return {**base, "cleanup_status": "REFUSED", "message": str(exc)}
        except Exception as exc:
            self.registry.transition(staging_id, [CLEANING], ERROR, error=f"cleanup failed: {_first_line(exc)}")
            return {**base, "cleanup_status": "FAILED", "message": _first_line(exc)}
        self.registry.transition(staging_id, [CLEANING], CLEANED)
        return {**base, "cleanup_status": "SUCCESS",
                "message": "database dropped" if outcome == "dropped" else "database was already gone"}

    # -- the sweeper's engine half ----------------------------------------------------------------
    def sweep_staging_environments(self, servers: Iterable[TargetConnection] = (), *, now: dt.datetime | None = None,
                                   in_flight_grace_seconds: int = 300) -> dict:
        """Drop expired environments, abandon in-flight ones whose worker died (no session on the
        copy and no progress for ``in_flight_grace_seconds``), and list orphans: databases with
        our marker that the registry does not know (reported, never dropped here)."""
        now = now or dt.datetime.now(dt.timezone.utc)
        report = {"expired": [], "abandoned": [], "orphans": [], "errors": []}
        scanned = {(s.host, s.port): s for s in servers}
        for staging_id, env in self.registry.active().items():
            try:
                source, server = self._connections_for(staging_id)
            except StagingEnvironmentError as exc:
                report["errors"].append({"staging_id": staging_id, "error": str(exc)})
                continue
            scanned.setdefault((server.host, server.port), server)
            if env.expires_at <= now and env.status in (READY, CLEANING, *IN_FLIGHT_STATUSES):
                if env.status in IN_FLIGHT_STATUSES and guard.sessions_on(server, env.database_name):
                    continue  # still being written; expire it on the next sweep
                outcome = self.cleanup_staging_environment(staging_id)
                report["expired" if outcome["cleanup_status"] == "SUCCESS" else "errors"].append(outcome)
            elif env.status in IN_FLIGHT_STATUSES:
                stale = env.updated_at is None or (now - env.updated_at).total_seconds() >= in_flight_grace_seconds
                if stale and not guard.sessions_on(server, env.database_name):
                    self._fail(staging_id, server, env.database_name, "abandoned: the worker stopped mid-copy",
                               env.status)
                    report["abandoned"].append({"staging_id": staging_id, "database": env.database_name})
        known = self.registry.known_database_names()
        for server in scanned.values():
            try:
                report["orphans"] += [{"host": server.host, "port": server.port, **orphan}
                                      for orphan in guard.marked_databases(server) if orphan["database"] not in known]
            except Exception as exc:
                report["errors"].append({"server": f"{server.host}:{server.port}", "error": _first_line(exc)})
        return report

    # -- internals --------------------------------------------------------------------------------
    def _get(self, staging_id: str) -> EnvironmentRecord:
        env = self.registry.get(staging_id)
        if env is None:
            raise StagingEnvironmentError(f"no staging environment {staging_id!r}")
        return env

    def _connections_for(self, staging_id: str) -> tuple[TargetConnection, TargetConnection]:
        if staging_id in self._connections:
            return self._connections[staging_id]
        lookup = getattr(self.registry, "connections", None)
        found = lookup(staging_id) if lookup else None
        if not found:
            raise StagingEnvironmentError(f"no credentials for staging environment {staging_id!r} in this process")
        return found

    @staticmethod
    def _source_encoding(source: TargetConnection) -> str:
        with source.read_only() as conn:
            return conn.execute("SELECT pg_encoding_to_char(encoding) FROM pg_database "
                                "WHERE datname = current_database()").fetchone()[0]

    def _fail(self, staging_id: str, server: TargetConnection, database: str, message: str, from_status: str) -> None:
        """Mark ERROR and drop the half-made copy; an unmarked database is dropped only while the
        row still says CREATING (the worker died between CREATE DATABASE and COMMENT)."""
        self.registry.transition(staging_id, [from_status], ERROR, error=message)
        try:
            guard.drop_staging_database(server, database, staging_id, allow_unmarked=(from_status == CREATING),
                                        timeout_seconds=self.config.cleanup_timeout_seconds)
        except Exception as exc:
            self.registry.update(staging_id, error=f"{message}; the copy could not be dropped: {_first_line(exc)}")


def _last_progress(registry, staging_id: str) -> dict:
    env = registry.get(staging_id)
    return dict(env.progress or {}) if env else {}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
