"""A mitigation rewrite takes the place of the statement it fixes: the plan never holds both."""

import pytest

from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.plan_sql import plan_operations
from tests.factories import AnalysisRunFactory, MigrationPlanFactory, TargetDatabaseFactory

SCHEMA = """
CREATE TABLE orders (id bigserial PRIMARY KEY, status text NOT NULL, note text);
INSERT INTO orders (status) SELECT 'new' FROM generate_series(1, 50);
"""


@pytest.fixture
def indexing_plan(dba, target_db):
    conn = target_db(SCHEMA)
    target = TargetDatabaseFactory.for_connection(conn, name="orders-db")
    plan = MigrationPlanFactory(author=dba, target=target, title="Index status",
                                sql="ALTER TABLE orders ADD COLUMN seen boolean;\n"
                                    "CREATE INDEX orders_status_idx ON orders (status);\n"
                                    "ALTER TABLE orders DROP COLUMN note;")
    report = analyze_plan(plan_operations(plan), conn, "public").to_dict()
    AnalysisRunFactory(plan=plan, report=report)
    return plan, report


def _sqls(plan):
    return [op.sql for op in plan.operations.order_by("position")]


def test_copying_the_concurrent_index_rewrite_replaces_the_plain_create_index(indexing_plan, dba, client_for):
    plan, report = indexing_plan
    step = next(s for s in report["mitigation"]["steps"] if s["id"] == "create-index-concurrently")
    assert [r["statement_index"] for r in step["rewrites"]] == [1]
    page = client_for(dba).get(f"{plan.get_absolute_url()}?tab=mitigation").content.decode()
    assert "Replace the statement it fixes" in page

    response = client_for(dba).post(f"/plans/{plan.pk}/mitigation/{step['order']}/apply/", follow=True)

    sqls = _sqls(plan)
    assert sqls[0] == "ALTER TABLE orders ADD COLUMN seen boolean"
    assert sqls[1].startswith("CREATE INDEX CONCURRENTLY orders_status_idx ON orders")
    assert sqls[-1] == "ALTER TABLE orders DROP COLUMN note"
    assert not any(s.startswith("CREATE INDEX orders_status_idx") for s in sqls)
    assert len([s for s in sqls if "orders_status_idx" in s]) == 1
    assert "Replaced 1 statement by" in response.content.decode()


def test_a_not_null_column_without_default_gets_a_mitigation_and_keeps_its_floor(dba, client_for):
    from migrations_app.engines.plan_analysis import analyze_plan as analyse_statically

    report = analyse_statically("ALTER TABLE orders ADD COLUMN region text NOT NULL").to_dict()
    step = next(s for s in report["mitigation"]["steps"] if s["id"] == "required-column-with-default")
    assert step["priority"] == "required"
    assert step["rewrites"] == [{"statement_index": 0,
                                 "sql": "ALTER TABLE orders ADD COLUMN region text DEFAULT <constant> NOT NULL;"}]
    assert report["risk"]["risk_level"] != "LOW"

    plan = MigrationPlanFactory(author=dba, target=TargetDatabaseFactory(name="regions"), title="Region",
                                sql="ALTER TABLE orders ADD COLUMN region text NOT NULL")
    AnalysisRunFactory(plan=plan, report=report)
    response = client_for(dba).post(f"/plans/{plan.pk}/mitigation/{step['order']}/apply/", follow=True)
    assert "a value only you can choose (&lt;constant&gt;)" in response.content.decode()
    assert _sqls(plan) == ["ALTER TABLE orders ADD COLUMN region text NOT NULL"]
