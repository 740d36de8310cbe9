"""Fixtures for the execution engine tests: a small target schema and quick executor settings."""

from __future__ import annotations

import pytest

from migrations_app.engines.execution import AtomicMigrationExecutor, MigrationLockManager
from tests.shop import shop_sql

# Five customers, their orders, and what depends on them (an index, a view, a second schema).
SHOP_SQL = shop_sql("rows", "reporting") + "INSERT INTO customers VALUES (4, 'di', 'd'), (5, 'ed', 'e');\n"


@pytest.fixture
def shop(target_db):
    return target_db(SHOP_SQL)


@pytest.fixture
def fast_executor():
    """Executor with short timeouts and backoff so failure paths stay quick."""

    def make(target, **overrides):
        manager = MigrationLockManager(target, heartbeat_seconds=overrides.pop("heartbeat_seconds", 0.2),
                                       owner=overrides.pop("owner", "pytest"))
        options = dict(lock_timeout_ms=200, max_attempts=3, backoff_base_seconds=0.05,
                       backoff_max_seconds=0.2, lock_wait_seconds=2, lock_manager=manager)
        options.update(overrides)
        return AtomicMigrationExecutor(target, **options)

    return make
