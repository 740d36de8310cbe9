"""Fixtures for the execution engine tests: a small target schema and quick executor settings."""

from __future__ import annotations

import pytest

from migrations_app.engines.concurrent_access_manager import AtomicMigrationExecutor, MigrationLockManager

SHOP_SQL = """
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, legacy_status varchar(20));
INSERT INTO customers VALUES (1, 'ann', 'a'), (2, 'bob', 'b'), (3, 'cy', NULL), (4, 'di', 'd'), (5, 'ed', 'e');
CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer REFERENCES customers(id), total numeric(10,2));
INSERT INTO orders VALUES (10, 1, 5.00), (11, 1, 7.50), (12, 2, 1.25);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE VIEW customer_totals AS SELECT c.id, sum(o.total) AS total FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id;
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id integer PRIMARY KEY, amount numeric(10,2));
"""


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
