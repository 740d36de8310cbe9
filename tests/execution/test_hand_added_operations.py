"""An operation row written straight into the app database after approval is SQL nobody reviewed."""

from migrations_app.models import Execution
from migrations_app.tasks import execute_plan
from tests.factories import ExecutionFactory, PlanOperationFactory


def test_an_operation_row_added_by_hand_after_approval_is_refused_and_nothing_runs(shop, approved_plan, dba):
    plan = approved_plan(shop, "ALTER TABLE customers ADD COLUMN email text")
    PlanOperationFactory(plan=plan, type="DROP_TABLE", table="orders", column="", sql="DROP TABLE orders",
                         rollback_sql="")
    execution = ExecutionFactory(plan=plan, user=dba)
    execute_plan(execution.pk)
    execution.refresh_from_db()
    with shop.connection().read_only() as conn:
        assert conn.execute("SELECT to_regclass('public.orders')").fetchone()[0] == "orders"
    assert execution.status == Execution.Status.REFUSED
    assert "do not match the SQL that was reviewed" in execution.error
