import pytest

from migrations_app.engines.dependencies import (FKOperationType, ForeignKeyAnalyzer, ImpactLevel, InvalidRenameError,
                                                 ObjectNotFoundError, RenameObjectType, TableRenameAnalyzer)


def test_rename_separates_oid_bound_objects_from_text_bodies(catalog_target):
    report = TableRenameAnalyzer(catalog_target).analyze_table_rename("Customers", "clients", "Sales Data")
    by_name = {o.object_name: o for o in report.schema_objects}
    assert by_name["active_customers"].requires_sql_rewrite is False
    assert by_name["accounts_owner_id_fkey"].object_type is RenameObjectType.FOREIGN_KEY
    assert by_name["tenant_isolation"].requires_sql_rewrite is False
    assert by_name["atomic_status(p integer)"].requires_sql_rewrite is False  # SQL-standard body
    assert by_name["close_customer(p_id integer)"].requires_sql_rewrite is True
    assert by_name["Customers_pkey"].suggested_name == "clients_pkey"
    assert report.impact_summary.overall_risk is ImpactLevel.HIGH
    assert report.impact_summary.total_objects == len(report.schema_objects)
    assert report.to_dict()["impact_summary"]["rewrite_count"] == 4


def test_rename_plan_and_rollback_run_on_postgresql(target_db, fixture_sql):
    target = target_db(fixture_sql("deps_catalog"))
    plan = TableRenameAnalyzer(target).analyze_table_rename("Customers", "clients", "Sales Data").generate_rename_plan()
    assert plan.compatibility_view is True
    with target.connect(autocommit=True) as conn:
        conn.execute(plan.sql)
        assert conn.execute("""SELECT count(*) FROM pg_class WHERE relname IN ('clients', 'clients_pkey')""").fetchone()[0] == 2
        conn.execute('SELECT "Status" FROM "Sales Data"."Customers"')  # the compatibility view
        conn.execute(plan.rollback_sql)
        assert conn.execute("""SELECT relkind FROM pg_class WHERE relname = 'Customers'""").fetchone()[0] == "r"


def test_rename_accepts_any_name_postgresql_accepts_and_rejects_the_rest(catalog_target):
    analyzer = TableRenameAnalyzer(catalog_target)
    assert analyzer.analyze_table_rename("Customers", "user_updates", "Sales Data").new_name == "user_updates"
    with pytest.raises(InvalidRenameError, match="already exists"):
        analyzer.analyze_table_rename("Customers", "accounts", "Sales Data")
    with pytest.raises(InvalidRenameError, match="63"):
        analyzer.analyze_table_rename("Customers", "é" * 32, "Sales Data")
    with pytest.raises(ObjectNotFoundError):
        analyzer.analyze_table_rename("nope", "other", "Sales Data")


def test_fk_impact_pairs_composite_keys_and_keeps_rules(catalog_target):
    report = ForeignKeyAnalyzer(catalog_target).analyze_foreign_key_impact("accounts", "DROP_COLUMN", "Sales Data", column="code")
    assert report.blocking and report.impact_level is ImpactLevel.CRITICAL
    [fk] = report.affected
    assert fk.to_dict()["column_pairs"] == [["acc_region", "region"], ["acc_code", "code"]]
    assert fk.on_delete == "CASCADE"


def test_fk_safe_plan_recreates_not_valid_then_validates_and_rolls_back(target_db, fixture_sql):
    target = target_db(fixture_sql("deps_catalog"))
    analyzer = ForeignKeyAnalyzer(target)
    plan = analyzer.generate_fk_safe_migration_plan({
        "table": "accounts", "schema": "Sales Data", "operation": "ALTER_COLUMN_TYPE", "column": "code",
        "sql": 'ALTER TABLE "Sales Data".accounts ALTER COLUMN code TYPE bigint;',
        "rollback_sql": 'ALTER TABLE "Sales Data".accounts ALTER COLUMN code TYPE integer;'})
    assert plan.fully_reversible
    assert any("NOT VALID" in s.sql for s in plan.steps) and any("VALIDATE CONSTRAINT" in s.sql for s in plan.steps)
    with target.connect(autocommit=True) as conn:
        for step in plan.steps:
            conn.execute(step.sql)
        for step in reversed(plan.steps):
            conn.execute(step.rollback_sql)
        definition = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ledger_account_fk'").fetchone()[0]
    assert "ON DELETE CASCADE" in definition


def test_fk_chains_report_cycles_without_looping(target_db):
    target = target_db("""
        CREATE TABLE a (id int PRIMARY KEY, b_id int);
        CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a(id));
        ALTER TABLE a ADD CONSTRAINT a_b_fk FOREIGN KEY (b_id) REFERENCES b(id);
        CREATE TABLE c (id int PRIMARY KEY, parent int REFERENCES c(id));""")
    analyzer = ForeignKeyAnalyzer(target)
    chains = analyzer.find_all_foreign_key_chains("a", max_depth=5)
    assert [c.tables for c in chains.cycles if c.direction == "outgoing"] == [["public.a", "public.b", "public.a"]]
    assert analyzer.find_all_foreign_key_chains("c").cycles[0].constraints == ["c_parent_fkey"]
    report = analyzer.analyze_foreign_key_impact("a", FKOperationType.RENAME_TABLE)
    assert report.impact_level is ImpactLevel.INFORMATIONAL and not report.blocking
