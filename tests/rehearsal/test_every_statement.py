"""A rehearsal tries every statement: after the first failure the later ones run under savepoints
of a transaction that is rolled back, so one rehearsal names every failing statement, fails all
the same, and leaves the copy as it was. The production executor still stops at the first failure."""

from __future__ import annotations

import pytest

from migrations_app.engines.execution import AtomicMigrationExecutor, schema_digest
from migrations_app.engines.execution.every_statement import NOT_TRIED
from migrations_app.engines.rehearsal.rehearse import rehearse_plan
from migrations_app.engines.statements import MigrationOperation
from migrations_app.models import Rehearsal
from staging_app.models import StagingClone
from staging_app.registry import DjangoStagingRegistry
from tests.factories import MigrationPlanFactory


def op(sql: str, rollback: str | None = None, table: str = "") -> MigrationOperation:
    return MigrationOperation(type="OTHER", table_name=table, sql=sql, rollback_sql=rollback, schema="shop")


TWO_FAILURES = [
    op("ALTER TABLE shop.orders ADD COLUMN note text", "ALTER TABLE shop.orders DROP COLUMN note", "orders"),
    op("ALTER TABLE shop.orders ADD COLUMN amount integer", None, "orders"),          # exists already
    op("CREATE INDEX orders_note_idx ON shop.orders (note)", "DROP INDEX shop.orders_note_idx", "orders"),
    op("ALTER TABLE shop.refunds ADD COLUMN reason text", None, "refunds"),           # no such table
    op("ALTER TABLE shop.customers ADD COLUMN vip boolean", "ALTER TABLE shop.customers DROP COLUMN vip", "customers"),
    op("CREATE INDEX CONCURRENTLY events_kind_idx ON shop.events (kind)",
       "DROP INDEX CONCURRENTLY shop.events_kind_idx", "events"),
]

SHOP_SCHEMA_OBJECTS = """
SELECT (SELECT count(*) FROM information_schema.columns
         WHERE table_schema = 'shop' AND column_name IN ('note', 'vip')),
       (SELECT count(*) FROM pg_class WHERE relname IN ('orders_note_idx', 'events_kind_idx'))
"""


def test_a_rehearsal_whose_statements_2_and_4_fail_reports_both_and_tries_3_and_5_under_savepoints(staging_copy):
    before = schema_digest(staging_copy, ["shop"]).digest
    with staging_copy.connect() as conn:
        orders_before = conn.execute("SELECT count(*), sum(amount) FROM shop.orders").fetchone()

    result = rehearse_plan(staging_copy, TWO_FAILURES, "shop", sample_fraction=0.5)

    assert result.status == "FAILED"
    assert [s.outcome for s in result.statements] == [
        "ran", "failed", "ran under a savepoint", "failed under a savepoint", "ran under a savepoint", "not tried"]
    first, second = result.statements[1], result.statements[3]
    assert 'column "amount" of relation "orders" already exists' in first.error
    assert 'relation "shop.refunds" does not exist' in second.error
    assert result.error.startswith("the plan failed on staging at statement 2: column \"amount\"")
    assert result.error.endswith("tried after it under savepoints, statement 4 failed too")
    # Statement 3 indexes the column statement 1 added: the later statements saw the earlier ones.
    assert result.statements[2].error is None and result.statements[2].duration_ms > 0
    assert result.statements[2].lock_mode == "ShareLock"
    concurrently = result.statements[5]
    assert concurrently.note == NOT_TRIED and concurrently.duration_ms is None and concurrently.error is None
    # Nothing after the first failure is passed work: the forward run committed nothing.
    assert not result.forward["success"] and result.forward["operations_completed"] == 0
    assert result.forward["rows_modified"] == 0 and result.forward["rollback_executed"]
    assert result.rollback is None and result.reapply is None
    assert result.projection is not None and result.projection.statement_index in (0, 1)
    assert result.statements[4].projection == {}  # tried in another transaction: nothing projected

    assert schema_digest(staging_copy, ["shop"]).digest == before
    with staging_copy.connect() as conn:
        assert conn.execute(SHOP_SCHEMA_OBJECTS).fetchone() == (0, 0)
        assert conn.execute("SELECT count(*), sum(amount) FROM shop.orders").fetchone() == orders_before


def test_after_a_failed_statement_in_autocommit_the_later_ones_are_tried_in_a_transaction_rolled_back(staging_copy):
    plan = [op("CREATE INDEX CONCURRENTLY events_nope_idx ON shop.events (nope)", None, "events"),
            op("ALTER TABLE shop.events ADD COLUMN seen boolean", None, "events"),
            op("ALTER TABLE shop.events ADD COLUMN seen boolean", None, "events")]
    result = rehearse_plan(staging_copy, plan, "shop", sample_fraction=0.5)
    assert [s.outcome for s in result.statements] == ["failed", "ran under a savepoint", "failed under a savepoint"]
    assert "nope" in result.statements[0].error and "already exists" in result.statements[2].error
    with staging_copy.connect() as conn:
        assert conn.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'shop' "
                            "AND column_name = 'seen'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relname = 'events_nope_idx'").fetchone()[0] == 0


def test_the_production_executor_still_stops_at_the_first_failure_and_tries_nothing_after_it(source_db):
    result = AtomicMigrationExecutor(source_db, lock_wait_seconds=5).execute_atomic_migration(TWO_FAILURES)
    assert not result.success and "already exists" in result.error_message
    assert {entry.operation_index for entry in result.statement_log} == {0, 1}
    assert all(entry.phase == "migration" for entry in result.statement_log)
    with source_db.connect() as conn:
        assert conn.execute(SHOP_SCHEMA_OBJECTS).fetchone() == (0, 0)


@pytest.mark.django_db
def test_the_rehearsal_page_lists_every_statement_and_the_clone_is_dropped(
        dba, shop_target, ready_copy, client_for, django_capture_on_commit_callbacks):
    operations = [{"type": "OTHER", "schema_name": "shop", "table": "orders", "sql": o.sql,
                   "rollback_sql": o.rollback_sql or "", "rollback_note": "", "line": n}
                  for n, o in enumerate(TWO_FAILURES, start=1)]
    plan = MigrationPlanFactory(author=dba, target=shop_target, title="Two failures", schema="shop",
                                operations=operations)
    client = client_for(dba)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/staging/plans/{plan.pk}/rehearse/", {"environment": ready_copy.staging_id})
    rehearsal = Rehearsal.objects.get()
    assert rehearsal.status == "FAILED" and "statement 4 failed too" in rehearsal.error

    page = client.get(f"/staging/rehearsals/{rehearsal.pk}/").content.decode()
    for outcome in ("failed under a savepoint", "ran under a savepoint", "not tried", NOT_TRIED):
        assert outcome in page.replace("&#x27;", "'")
    assert 'relation "shop.refunds" does not exist'.replace('"', "&quot;") in page

    clone = StagingClone.objects.get(environment=ready_copy)
    assert clone.dropped_at is not None
    server = DjangoStagingRegistry().connections(ready_copy.staging_id)[1]
    with server.connect(autocommit=True) as conn:
        assert not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [clone.database_name]).fetchall()
    with server.for_database(ready_copy.database_name).connect() as conn:
        assert conn.execute(SHOP_SCHEMA_OBJECTS).fetchone() == (0, 0)
