"""Fixtures for the baselines engine: a small shop whose index lookups and sequential scans
differ by two orders of magnitude, so a dropped index is unmistakable even on a busy machine."""

from __future__ import annotations

import dataclasses

import pytest

SHOP_SQL = """
CREATE TABLE customers (
    id      bigint PRIMARY KEY,
    email   text NOT NULL,
    region  integer NOT NULL
);
INSERT INTO customers SELECT g, 'customer' || g || '@example.test', g % 50 FROM generate_series(1, 5000) g;

CREATE TABLE orders (
    id           bigserial PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers (id),
    total_cents  integer NOT NULL,
    placed_at    timestamptz NOT NULL
);
INSERT INTO orders (customer_id, total_cents, placed_at)
SELECT 1 + (g * 7919) % 5000, g % 1000, timestamptz '2025-01-01' + g * interval '1 minute'
FROM generate_series(1, 40000) g;
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
