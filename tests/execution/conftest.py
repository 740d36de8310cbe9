"""Fixtures for the app-side execution tests: a small target, approved plans, fast settings."""

from __future__ import annotations

import pytest
from django.utils import timezone

from migrations_app import workflow
from migrations_app.models import AnalysisRun, MigrationPlan, PlanStatus, SignOff
from migrations_app.plan_sql import script_to_operations
from tests.factories import TargetDatabaseFactory

SHOP_SQL = """
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, legacy_status varchar(20));
INSERT INTO customers VALUES (1, 'ann', 'a'), (2, 'bob', 'b'), (3, 'cy', NULL);
CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer REFERENCES customers(id), total numeric(10,2));
INSERT INTO orders VALUES (10, 1, 5.00), (11, 1, 7.50), (12, 2, 1.25);
-- a check that takes 0.3 s per row: "ALTER TABLE slow ADD CONSTRAINT ... CHECK (crawl(id))" is a long ALTER
CREATE FUNCTION crawl(integer) RETURNS boolean LANGUAGE plpgsql AS $$BEGIN PERFORM pg_sleep(0.3); RETURN true; END$$;
CREATE TABLE slow (id integer PRIMARY KEY);
INSERT INTO slow SELECT generate_series(1, 100);
"""


@pytest.fixture(autouse=True)
def _fast_execution(settings):
    settings.DATAFLOW_EXEC_LOCK_WAIT_SECONDS = 1
    settings.DATAFLOW_EXEC_LOCK_TIMEOUT_MS = 200
    settings.DATAFLOW_EXEC_MAX_ATTEMPTS = 2
    settings.DATAFLOW_ALERT_RETRY_SECONDS = 0
    settings.DATAFLOW_SLACK_WEBHOOK_URL = ""
    settings.DATAFLOW_PAGERDUTY_ROUTING_KEY = ""
    settings.DATAFLOW_ALERT_EMAILS = []


@pytest.fixture
def shop(target_db, db):
    conn = target_db(SHOP_SQL)
    target = TargetDatabaseFactory(name="shop-copy", host=conn.host, port=conn.port, dbname=conn.dbname,
                                   user=conn.user)
    if conn.password:
        target.password = conn.password
        target.save()
    return target


@pytest.fixture
def approved_plan(dba, other_dba):
    """``approved_plan(target, sql, risk="LOW")``: a plan through the real workflow functions, with a
    stored analysis of its exact SQL at that risk level (MEDIUM also gets a DBA review)."""

    def make(target, sql, risk="LOW", title="Test plan"):
        plan = workflow.create_plan(dba, target=target, title=title,
                                    operations=script_to_operations(sql, "public", target))
        AnalysisRun.objects.create(plan=plan, sql_hash=plan.sql_hash, status=AnalysisRun.Status.SUCCEEDED,
                                   report={}, risk_level=risk, risk_score={"LOW": 10, "MEDIUM": 40}[risk],
                                   finished_at=timezone.now())
        MigrationPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.IN_REVIEW, risk_level=risk)
        plan.refresh_from_db()
        if risk == "MEDIUM":
            workflow.sign_off(plan, other_dba, SignOff.Decision.REVIEW, "looks fine")
        workflow.refresh_approval(plan, None)
        plan.refresh_from_db()
        assert plan.status == PlanStatus.APPROVED
        return plan

    return make


def columns(target, table):
    with target.connection().read_only() as conn:
        return [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s"
            " ORDER BY ordinal_position", [table])]
