"""Rollbacks say exactly what they restored: data backed up by default, restored rows checked
by count and checksum, schema and data verified apart, and nothing called verified that was not."""

from __future__ import annotations

import json

from migrations_app.engines.rollback import RollbackPlan
from migrations_app.engines.statements import MigrationOperation
from migrations_app.engines.execution import schema_digest
from tests.shop import shop_sql

LOYALTY_SQL = shop_sql() + """
ALTER TABLE customers ADD COLUMN tier text;
INSERT INTO customers SELECT g, 'c' || g, CASE WHEN g % 3 = 0 THEN 'bronze' ELSE 'gold' END, 'basic'
FROM generate_series(1, 3000) AS g;
INSERT INTO orders SELECT g, 1 + g % 3000, g / 100.0 FROM generate_series(1, 500) AS g;
CREATE TABLE order_lines (id integer PRIMARY KEY, order_id integer REFERENCES orders(id), qty integer);
INSERT INTO order_lines SELECT g, 1 + g % 500, g % 7 FROM generate_series(1, 900) AS g;
CREATE TABLE audit_log (at timestamptz, message text);
INSERT INTO audit_log SELECT now(), 'm' || g FROM generate_series(1, 20) AS g;
"""


def op(sql, rollback_sql=None, **kwargs):
    return MigrationOperation(type=kwargs.pop("type", "SQL"), table_name=kwargs.pop("table_name", "customers"),
                              sql=sql, rollback_sql=rollback_sql, **kwargs)


def snapshot(target):
    with target.read_only() as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                for table in ("customers", "orders", "order_lines", "audit_log")}


def backup_tables(target) -> int:
    with target.read_only() as conn:
        return conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'dataflow_backup'").fetchone()[0]


def test_an_update_without_rollback_sql_is_restored_from_its_pre_image_and_checked(target_db, fast_executor):
    shop = target_db(LOYALTY_SQL)
    executor = fast_executor(shop)
    before = snapshot(shop)
    result = executor.execute_atomic_migration([
        op("UPDATE customers SET legacy_status = 'silver', tier = 'plus' WHERE legacy_status = 'bronze'",
           type="UPDATE")])
    assert result.success, result.error_message
    assert [e.rows for e in result.statement_log if e.phase == "migration"] == [1000]
    backup = result.rollback_plan.backups[0]
    assert backup.rows == 1000 and len(backup.checksum) == 32 and backup.bytes > 0
    assert result.rollback_plan.data_reversible
    stored = RollbackPlan.from_dict(json.loads(json.dumps(result.rollback_plan.to_dict())))

    undo = executor.execute_rollback_plan(stored)
    assert undo.success, undo.error_message
    assert undo.schema_verified is True and undo.data_verified is True and undo.verified is True
    assert undo.data_verification["status"] == "verified"
    assert undo.data_verification["checked"][0]["rows"] == 1000
    assert snapshot(shop) == before
    assert backup_tables(shop) == 0


def test_above_the_backup_limit_the_update_is_irreversible_and_its_rollback_is_not_called_verified(
        target_db, fast_executor):
    shop = target_db(LOYALTY_SQL)
    executor = fast_executor(shop, backup_max_bytes=1000)
    result = executor.execute_atomic_migration([
        op("UPDATE customers SET legacy_status = 'silver' WHERE legacy_status = 'bronze'", type="UPDATE")])
    assert result.success
    plan = result.rollback_plan
    assert not plan.data_reversible and not plan.backups
    assert "above the backup size limit" in plan.data_unchecked[0]["reasons"][0]

    undo = executor.execute_rollback_plan(plan)
    assert undo.success and undo.schema_verified is True
    assert undo.data_verified is None and undo.verified is False
    assert undo.data_verification["status"] == "not_restored"
    assert "data NOT restored" in undo.data_verification["summary"]
    with shop.read_only() as conn:  # what the page must not hide: the rows stay changed
        assert conn.execute("SELECT count(*) FROM customers WHERE legacy_status = 'silver'").fetchone()[0] == 1000


def test_truncate_cascade_backs_up_every_table_it_empties_and_restores_them_parents_first(target_db, fast_executor):
    shop = target_db(LOYALTY_SQL)
    executor = fast_executor(shop)
    before = snapshot(shop)
    result = executor.execute_atomic_migration([op("TRUNCATE orders CASCADE", table_name="orders", type="TRUNCATE")])
    assert result.success, result.error_message
    assert sorted(b.source for b in result.rollback_plan.backups) == ["public.order_lines", "public.orders"]
    with shop.read_only() as conn:
        assert conn.execute("SELECT count(*) FROM order_lines").fetchone()[0] == 0

    undo = executor.execute_rollback_plan(result.rollback_plan)
    assert undo.success and undo.verified, undo.error_message
    assert {c["source"]: c["rows"] for c in undo.data_verification["checked"]} == {
        "public.orders": 500, "public.order_lines": 900}
    assert snapshot(shop) == before


def test_restored_rows_that_differ_from_the_backup_fail_the_rollback_and_keep_the_backups(target_db, fast_executor):
    shop = target_db(LOYALTY_SQL)
    executor = fast_executor(shop)
    result = executor.execute_atomic_migration([op("DELETE FROM order_lines WHERE qty = 0", table_name="order_lines",
                                                   type="DELETE")])
    assert result.success
    backup = result.rollback_plan.backups[0]
    with shop.connect(autocommit=True) as conn:  # someone edits the saved copy before the rollback
        conn.execute(f"UPDATE {backup.backup_table} SET qty = 5 WHERE id = 7")

    undo = executor.execute_rollback_plan(result.rollback_plan)
    assert not undo.success
    assert "data check failed for public.order_lines" in undo.error_message
    assert undo.data_verified is False and undo.verified is False
    assert undo.data_verification["status"] == "failed"
    with shop.read_only() as conn:  # the restore rolled back with the failed check
        assert conn.execute("SELECT count(*) FROM order_lines WHERE qty = 0").fetchone()[0] == 0
    assert backup_tables(shop) == 1


def test_a_delete_whose_foreign_keys_cascade_is_irreversible_for_data(target_db, fast_executor):
    shop = target_db("""
        CREATE TABLE parents (id integer PRIMARY KEY);
        CREATE TABLE children (id integer PRIMARY KEY, parent_id integer REFERENCES parents ON DELETE CASCADE);
        INSERT INTO parents VALUES (1), (2); INSERT INTO children VALUES (1, 1), (2, 2);""")
    plan = fast_executor(shop).prepare_rollback_plan([op("DELETE FROM parents WHERE id = 1", table_name="parents",
                                                         type="DELETE")])
    assert not plan.data_reversible and not plan.backups
    assert "children_parent_id_fkey" in plan.data_unchecked[0]["reasons"][0]


def test_a_table_without_primary_key_keeps_update_irreversible_but_truncate_restorable(target_db, fast_executor):
    shop = target_db(LOYALTY_SQL)
    executor = fast_executor(shop)
    update = executor.prepare_rollback_plan([op("UPDATE audit_log SET message = 'x'", table_name="audit_log")])
    assert "no primary key" in update.data_unchecked[0]["reasons"][0]
    before = snapshot(shop)
    result = executor.execute_atomic_migration([op("TRUNCATE audit_log", table_name="audit_log")])
    undo = executor.execute_rollback_plan(result.rollback_plan)
    assert undo.verified and undo.data_verification["checked"][0]["rows"] == 20
    assert snapshot(shop) == before


def test_a_plan_that_changes_no_rows_says_there_was_no_data_to_restore(target_db, fast_executor):
    shop = target_db(LOYALTY_SQL)
    executor = fast_executor(shop)
    result = executor.execute_atomic_migration([op("CREATE INDEX customers_tier_idx ON customers (tier)",
                                                   "DROP INDEX customers_tier_idx")])
    undo = executor.execute_rollback_plan(result.rollback_plan)
    assert undo.verified and undo.data_verification["status"] == "no_data_changed"


def test_drop_column_rollback_restores_values_not_null_constraints_and_indexes(target_db, fast_executor):
    # the last column: a re-added column goes to the end, and the digest compares column order
    shop = target_db("""
        CREATE TABLE accounts (id integer PRIMARY KEY, region text, email text NOT NULL);
        INSERT INTO accounts SELECT g, 'eu', 'u' || g || '@x.org' FROM generate_series(1, 50) AS g;
        CREATE INDEX accounts_email_lower_idx ON accounts (lower(email));
        CREATE INDEX accounts_region_email_idx ON accounts (region, email) WHERE email <> '';
        ALTER TABLE accounts ADD CONSTRAINT accounts_email_at CHECK (position('@' in email) > 1);
        ALTER TABLE accounts ADD CONSTRAINT accounts_region_email_key UNIQUE (region, email);""")
    executor = fast_executor(shop)
    before = schema_digest(shop, ["public"])
    with shop.read_only() as conn:
        rows_before = conn.execute("SELECT * FROM accounts ORDER BY id").fetchall()
    result = executor.execute_atomic_migration([op(
        "ALTER TABLE accounts DROP COLUMN email", "ALTER TABLE accounts ADD COLUMN email text",
        table_name="accounts", type="DROP_COLUMN")])
    assert result.success, result.error_message
    kinds = [s.kind for s in result.rollback_plan.steps]
    assert kinds.count("restore_structure") == 5  # NOT NULL, 2 constraints, 2 plain indexes

    undo = executor.execute_rollback_plan(result.rollback_plan)
    assert undo.success, undo.error_message
    assert undo.schema_verified, before.differences(schema_digest(shop, ["public"]))
    assert undo.data_verified and undo.verified
    with shop.read_only() as conn:
        assert conn.execute("SELECT * FROM accounts ORDER BY id").fetchall() == rows_before
