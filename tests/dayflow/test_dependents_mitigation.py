"""The demo's "Drop customers.legacy_status" reaches the end: the dependents step gives the SQL
that drops the views reading the column and recreates those that can exist without it, in order,
and the plan with that step copied in runs on the demo schema."""

from pathlib import Path

import pytest

from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.plan_sql import plan_operations
from tests.factories import AnalysisRunFactory, MigrationPlanFactory, TargetDatabaseFactory

DEMO_SCHEMA = (Path(__file__).resolve().parents[2] / "migrations_app/demo/demo_shop_schema.sql").read_text()


@pytest.fixture
def demo(target_db):
    return target_db(DEMO_SCHEMA)


def _step(report, sid):
    return next(s for s in report["mitigation"]["steps"] if s["id"] == sid)


def test_the_dependents_step_drops_outer_views_first_and_recreates_them_without_the_column(demo):
    report = analyze_plan("ALTER TABLE customers DROP COLUMN legacy_status", demo, "public").to_dict()
    step = _step(report, "handle-dependents-explicitly")

    assert step["sql_before"] == ["DROP TRIGGER customers_touch ON public.customers",
                                  "DROP VIEW public.legacy_customers", "DROP VIEW public.active_customers",
                                  "DROP VIEW billing.open_invoices"]
    assert [sql.split(" AS ")[0] for sql in step["sql_after"]] == ["CREATE VIEW billing.open_invoices",
                                                                  "CREATE VIEW public.active_customers"]
    assert all("legacy_status" not in sql for sql in step["sql_after"])
    assert "public.legacy_customers cannot be recreated without legacy_status" in step["safe_sql"]
    # the function runs only through customers_touch, which the drop removes: PostgreSQL's DROP ... CASCADE
    # leaves nothing that calls it, so it is no FUNCTION dependent; it still keeps the trigger from being recreated
    found = [(d["type"], d["name"]) for r in report["dependencies"] for d in r["dependencies"]]
    assert ("TRIGGER", "customers_touch") in found
    assert not [name for kind, name in found if kind == "FUNCTION" and name.startswith("touch_customer")]
    assert "-- ... the plan's statement runs here ..." in step["safe_sql"]
    # the trigger's function still reads the column: recreating the trigger would break every update
    assert ("trigger customers_touch calls touch_customer(), which uses legacy_status: it stays dropped until the "
            "function is changed; then recreate it with: CREATE TRIGGER customers_touch BEFORE UPDATE OF email, "
            "full_name ON public.customers") in step["safe_sql"]


def test_the_plan_with_the_dependents_step_copied_in_runs_on_the_demo_schema(demo, dba, client_for):
    target = TargetDatabaseFactory.for_connection(demo, name="demo-shop")
    plan = MigrationPlanFactory(author=dba, target=target, title="Drop customers.legacy_status",
                                sql="ALTER TABLE customers DROP COLUMN legacy_status")
    report = analyze_plan(plan_operations(plan), demo, "public").to_dict()
    AnalysisRunFactory(plan=plan, report=report)
    step = _step(report, "handle-dependents-explicitly")

    response = client_for(dba).post(f"/plans/{plan.pk}/mitigation/{step['order']}/apply/", follow=True)

    assert "4 statement(s) before the plan&#x27;s and 2 after" in response.content.decode()
    sqls = [op.sql for op in plan.operations.order_by("position")]
    assert sqls[4] == "ALTER TABLE customers DROP COLUMN legacy_status"
    with demo.connect() as conn:
        with conn.transaction():
            for sql in sqls:
                conn.execute(sql)
            views = conn.execute("SELECT table_schema || '.' || table_name FROM information_schema.views "
                                 "WHERE table_schema IN ('public', 'billing') ORDER BY 1").fetchall()
            columns = conn.execute("SELECT column_name FROM information_schema.columns "
                                   "WHERE table_name = 'active_customers' ORDER BY ordinal_position").fetchall()
    assert [v for (v,) in views] == ["billing.open_invoices", "public.active_customers", "public.order_summaries"]
    assert [c for (c,) in columns] == ["id", "email", "full_name", "country_code"]
