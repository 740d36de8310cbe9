"""A backup must hold exactly what the statement changes, or its rollback restores less than was
lost while calling itself verified. TRUNCATE / DROP lock the table against writers before the
copy (SHARE: readers go on), so the copy is what they remove, and its count is the rows the page reports (TRUNCATE
returns none). DELETE / UPDATE must change exactly the rows copied: a row that matches only when
the statement runs (written in between, or chosen differently) fails the transaction, and nothing
of it applies."""

from __future__ import annotations

from migrations_app.engines.statements import MigrationOperation

SHOP = """
CREATE TABLE items (id integer PRIMARY KEY, kind text NOT NULL);
INSERT INTO items SELECT g, CASE WHEN g <= 5 THEN 'old' ELSE 'new' END FROM generate_series(1, 12) AS g;
CREATE TABLE notes (item_id integer REFERENCES items, body text);
INSERT INTO notes SELECT g, 'n' || g FROM generate_series(1, 3) AS g;
-- true the second time it is asked about an id in a transaction: the backup's SELECT and the
-- DELETE choose different rows (a transaction-local setting, so it also works read-only). Declared
-- STABLE, wrongly: the backup planner trusts the declaration (a VOLATILE function in a WHERE is not
-- backed up at all, see test_backup_row_selection), so here only the count check can catch it
CREATE FUNCTION asked_before(i integer) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF coalesce(current_setting('dftest.asked_' || i, true), '') = 'y' THEN RETURN true; END IF;
  PERFORM set_config('dftest.asked_' || i, 'y', true);
  RETURN false;
END $$;
"""


def count(target, table):
    with target.read_only() as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_truncate_locks_before_its_copy_and_reports_the_rows_it_removed(target_db, fast_executor):
    shop = target_db(SHOP)
    result = fast_executor(shop).execute_atomic_migration([
        MigrationOperation(type="TRUNCATE", table_name="items", sql="TRUNCATE items CASCADE")])
    assert result.success, result.error_message
    log = [(e.phase, e.sql.split(" ")[0], e.rows) for e in result.statement_log]
    # each table is locked against writers (readers go on) before its copy, both before the TRUNCATE
    assert [p for p, _, _ in log] == ["backup"] * 4 + ["migration"], log
    assert [kw for _, kw, _ in log[:4]] == ["LOCK", "CREATE", "LOCK", "CREATE"], log
    assert all(e.sql.endswith("IN SHARE MODE") for e in result.statement_log if e.sql.startswith("LOCK"))
    truncate = result.statement_log[-1]
    assert truncate.rows == 15 and truncate.rows_from_backup  # 12 items + 3 notes
    assert result.rows_modified == 15
    assert count(shop, "items") == 0


def test_a_delete_that_removes_rows_the_backup_does_not_hold_is_not_applied(target_db, fast_executor):
    shop = target_db(SHOP)
    executor = fast_executor(shop)
    result = executor.execute_atomic_migration([
        MigrationOperation(type="DELETE", table_name="notes", sql="DELETE FROM notes"),
        MigrationOperation(type="DELETE", table_name="items",
                           sql="DELETE FROM items WHERE kind = 'old' OR asked_before(id)")])
    assert not result.success
    assert "changed 12 row(s) but the backup taken just before it holds 5" in result.error_message
    assert "nothing of it was applied" in result.error_message
    # the whole transaction rolled back: the first DELETE too
    assert count(shop, "items") == 12 and count(shop, "notes") == 3


def test_a_delete_and_update_that_change_what_was_copied_run(target_db, fast_executor):
    shop = target_db(SHOP)
    executor = fast_executor(shop)
    result = executor.execute_atomic_migration([
        MigrationOperation(type="UPDATE", table_name="items", sql="UPDATE items SET kind = 'older' WHERE kind = 'old'"),
        MigrationOperation(type="DELETE", table_name="items", sql="DELETE FROM items WHERE id > 10")])
    assert result.success, result.error_message
    assert result.rows_modified == 7
    undo = executor.execute_rollback_plan(result.rollback_plan)
    assert undo.success and undo.data_verified, undo.error_message
    assert count(shop, "items") == 12
