"""A plan written for a non-public schema runs its unqualified names in that schema."""

from migrations_app.engines.statements import MigrationOperation


def test_unqualified_names_resolve_in_the_plans_schema(shop, fast_executor):
    ops = [MigrationOperation(type="ADD_COLUMN", table_name="invoices", schema="billing",
                              sql="ALTER TABLE invoices ADD COLUMN paid boolean NOT NULL DEFAULT false",
                              rollback_sql="ALTER TABLE invoices DROP COLUMN paid")]
    result = fast_executor(shop, search_path="billing").execute_atomic_migration(ops)
    assert result.success, result.error_message
    with shop.connect() as conn:
        columns = conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = 'billing.invoices'::regclass "
                               "AND attnum > 0 AND NOT attisdropped ORDER BY attnum").fetchall()
    assert [c[0] for c in columns] == ["id", "amount", "paid"]


def test_without_a_search_path_the_servers_setting_applies(shop, fast_executor):
    ops = [MigrationOperation(type="ADD_COLUMN", table_name="invoices", schema="billing",
                              sql="ALTER TABLE invoices ADD COLUMN paid boolean")]
    result = fast_executor(shop).execute_atomic_migration(ops)
    assert not result.success and "invoices" in result.error_message  # public has no invoices table
