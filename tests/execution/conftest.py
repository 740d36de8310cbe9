"""Fixtures for the app-side execution tests: a small target, approved plans, fast settings."""

from __future__ import annotations

import pytest

from tests.factories import TargetDatabaseFactory, approved_plan as make_approved_plan
from tests.shop import shop_sql

SHOP_SQL = shop_sql("rows", "slow")


@pytest.fixture(autouse=True)
def fast_execution(settings):
    settings.DATAFLOW_EXEC_LOCK_WAIT_SECONDS = 1
    settings.DATAFLOW_EXEC_LOCK_TIMEOUT_MS = 200
    settings.DATAFLOW_EXEC_MAX_ATTEMPTS = 2
    settings.DATAFLOW_ALERT_RETRY_SECONDS = 0
    settings.DATAFLOW_SLACK_WEBHOOK_URL = ""
    settings.DATAFLOW_PAGERDUTY_ROUTING_KEY = ""
    settings.DATAFLOW_ALERT_EMAILS = []


@pytest.fixture
def shop(target_db, db):
    return TargetDatabaseFactory.for_connection(target_db(SHOP_SQL), name="shop-copy")


@pytest.fixture
def approved_plan(dba, other_dba):
    """``approved_plan(target, sql, risk="LOW")``: a plan through the real workflow functions, with a
    finished analysis of its exact SQL at that risk level (MEDIUM also gets a DBA review)."""

    def make(target, sql, risk="LOW", title="Test plan"):
        signers = [other_dba] if risk == "MEDIUM" else []
        return make_approved_plan(dba, target, level=risk, signers=signers, sql=sql, title=title)

    return make


def columns(target, table):
    with target.connection().read_only() as conn:
        return [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s"
            " ORDER BY ordinal_position", [table])]
