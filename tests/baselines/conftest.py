"""Fixtures for the baselines engine: a small shop whose index lookups and sequential scans
differ by two orders of magnitude, so a dropped index is unmistakable even on a busy machine."""

from __future__ import annotations

import dataclasses

import pytest

from tests.shop import shop_sql

SHOP_SQL = shop_sql() + """
INSERT INTO customers SELECT g, 'customer ' || g, 'r' || g % 50 FROM generate_series(1, 5000) g;
INSERT INTO orders SELECT g, 1 + (g * 7919) % 5000, (g % 1000) / 100.0 FROM generate_series(1, 40000) g;
CREATE INDEX orders_customer_idx ON orders (customer_id);
ANALYZE;
"""


@dataclasses.dataclass
class BaselineConfig:
    """The baseline fields of StagingEnvironmentConfig (the engine duck-types them)."""

    performance_baselines_enabled: bool = True
    baseline_query_timeout_seconds: float = 10
    performance_degradation_threshold: float = 1.5
    min_baseline_queries: int = 10


@pytest.fixture
def config():
    return BaselineConfig()


@pytest.fixture
def shop(target_db):
    return target_db(SHOP_SQL)


@pytest.fixture
def production_target(shop, db):
    """The shop as a production target: the runbook's development preset disables baselines, the
    production preset enables them."""
    from tests.factories import TargetDatabaseFactory

    return TargetDatabaseFactory.for_connection(shop, environment="production")
