"""Where staging environments are recorded: the engine talks to a ``StagingRegistry``.

The Django app implements it with the ``StagingEnvironment`` model (``staging_app.registry``),
so environments survive restarts and the limit holds across processes. ``InMemoryRegistry``
serves command-line use and engine tests in one process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from typing import Iterable, Protocol

CREATING = "CREATING"
REPLICATING = "REPLICATING"
READY = "READY"
ERROR = "ERROR"
CLEANING = "CLEANING"
CLEANED = "CLEANED"
STATUSES = (CREATING, REPLICATING, READY, ERROR, CLEANING, CLEANED)
# Environments that hold (or are about to hold) a database and count against the limit.
LIVE_STATUSES = (CREATING, REPLICATING, READY, CLEANING)
IN_FLIGHT_STATUSES = (CREATING, REPLICATING)


class StagingLimitExceeded(Exception):
    """Maximum staging environments exceeded (the runbook's message)."""


@dataclasses.dataclass(frozen=True)
class StagingDatabase:
    """Where the copy lives (no secret: credentials come from the target or the override)."""
    host: str
    port: int
    database: str
    user: str

    def describe(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.database}"


@dataclasses.dataclass
class EnvironmentRecord:
    """What the engine knows of one staging copy (the app stores it as a ``StagingEnvironment`` row)."""

    staging_id: str
    status: str
    created_at: dt.datetime
    expires_at: dt.datetime
    staging_db: StagingDatabase
    production_database: str
    data_sample_size: float
    sample_seed: int
    tables_filter: list[str] | None = None
    masking_rules: dict = dataclasses.field(default_factory=dict)
    progress: dict = dataclasses.field(default_factory=dict)
    replication_result: dict | None = None
    error: str = ""
    updated_at: dt.datetime | None = None

    @property
    def database_name(self) -> str:
        return self.staging_db.database


class StagingRegistry(Protocol):
    def reserve(self, environment: EnvironmentRecord, limit: int) -> None:
        """Record a new environment atomically, or raise StagingLimitExceeded if ``limit``
        live environments already exist."""

    def get(self, staging_id: str) -> EnvironmentRecord | None: ...

    def transition(self, staging_id: str, from_statuses: Iterable[str], to_status: str, **fields) -> bool:
        """Compare-and-set the status (and other fields); False if the status was not one of ``from_statuses``."""

    def update(self, staging_id: str, **fields) -> None:
        """Set progress / replication_result / error without touching the status."""

    def active(self) -> dict[str, EnvironmentRecord]:
        """Live environments by staging id."""

    def known_database_names(self) -> set[str]:
        """Names of databases the registry accounts for (any status but CLEANED)."""


class InMemoryRegistry:
    """A process-local registry (CLI, engine tests). A lock makes ``reserve`` atomic."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: dict[str, EnvironmentRecord] = {}

    def reserve(self, environment: EnvironmentRecord, limit: int) -> None:
        with self._lock:
            live = sum(1 for env in self._items.values() if env.status in LIVE_STATUSES)
            if live >= limit:
                raise StagingLimitExceeded(f"Maximum staging environments exceeded ({live} of {limit} in use)")
            environment.updated_at = _now()
            self._items[environment.staging_id] = environment

    def get(self, staging_id: str) -> EnvironmentRecord | None:
        with self._lock:
            env = self._items.get(staging_id)
            return dataclasses.replace(env) if env else None

    def transition(self, staging_id: str, from_statuses: Iterable[str], to_status: str, **fields) -> bool:
        with self._lock:
            env = self._items.get(staging_id)
            if env is None or env.status not in tuple(from_statuses):
                return False
            env.status = to_status
            self._set(env, fields)
            return True

    def update(self, staging_id: str, **fields) -> None:
        with self._lock:
            env = self._items.get(staging_id)
            if env is not None:
                self._set(env, fields)

    def active(self) -> dict[str, EnvironmentRecord]:
        with self._lock:
            return {k: dataclasses.replace(v) for k, v in self._items.items() if v.status in LIVE_STATUSES}

    def known_database_names(self) -> set[str]:
        with self._lock:
            return {env.database_name for env in self._items.values() if env.status != CLEANED}

    @staticmethod
    def _set(env: EnvironmentRecord, fields: dict) -> None:
        for name, value in fields.items():
            setattr(env, name, value)
        env.updated_at = _now()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
