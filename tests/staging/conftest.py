"""Fixtures for the staging tests: a small production database and managers whose copies
are always dropped after the test (through the same guard the product uses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from staging_app.engines import guard
from staging_app.engines.registry import InMemoryRegistry
from staging_app.engines.staging_environment_manager import StagingEnvironmentConfig, StagingEnvironmentManager
from tests import pg

SOURCE_SQL = (Path(__file__).parent / "source_schema.sql").read_text()


@pytest.fixture
def source_db(target_db):
    """A TargetConnection to a fresh copy of ``source_schema.sql``."""
    return target_db(SOURCE_SQL)


def drop_leftover_copies(staging_ids) -> None:
    server = pg.server_connection("postgres")
    for staging_id in staging_ids:
        guard.drop_staging_database(server, f"{guard.STAGING_PREFIX}{staging_id}", staging_id, allow_unmarked=True)


@pytest.fixture
def make_manager():
    """``make_manager(**config)``: an engine manager on an in-memory registry."""
    registries = []

    def make(registry=None, **config) -> StagingEnvironmentManager:
        registry = registry or InMemoryRegistry()
        registries.append(registry)
        return StagingEnvironmentManager(StagingEnvironmentConfig(**config), registry=registry)

    yield make
    for registry in registries:
        if isinstance(registry, InMemoryRegistry):
            drop_leftover_copies(list(registry._items))
