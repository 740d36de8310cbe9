"""Statement analysis: kinds, lock modes per ALTER TABLE form, rewrite/scan/transactional/data loss."""

import pytest

from migrations_app.engines.statements import AnalysisEnv, SqlSyntaxError, parse_script


def one(sql, **env):
    [stmt] = parse_script(sql, AnalysisEnv(**env) if env else None)
    return stmt


@pytest.mark.parametrize("sql, lock", [
    ("ALTER TABLE t ADD COLUMN c int", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t DROP COLUMN c", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t ALTER COLUMN c TYPE bigint", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t ALTER COLUMN c SET NOT NULL", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t ALTER COLUMN c DROP NOT NULL", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t ALTER COLUMN c SET DEFAULT 1", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t ALTER COLUMN c SET STATISTICS 500", "SHARE UPDATE EXCLUSIVE"),
    ("ALTER TABLE t ALTER COLUMN c SET (n_distinct = 100)", "SHARE UPDATE EXCLUSIVE"),
    ("ALTER TABLE t ALTER COLUMN c SET STORAGE EXTERNAL", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id)", "SHARE ROW EXCLUSIVE"),
    ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id) NOT VALID", "SHARE ROW EXCLUSIVE"),
    ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t ADD CONSTRAINT u UNIQUE (a)", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t VALIDATE CONSTRAINT c", "SHARE UPDATE EXCLUSIVE"),
    ("ALTER TABLE t DROP CONSTRAINT c", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t SET (fillfactor = 70)", "SHARE UPDATE EXCLUSIVE"),
    ("ALTER TABLE t SET (autovacuum_enabled = false)", "SHARE UPDATE EXCLUSIVE"),
    ("ALTER TABLE t SET (parallel_workers = 2, security_barrier = true)", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t CLUSTER ON t_pkey", "SHARE UPDATE EXCLUSIVE"),
    ("ALTER TABLE t SET WITHOUT CLUSTER", "SHARE UPDATE EXCLUSIVE"),
    ("ALTER TABLE t DISABLE TRIGGER trg", "SHARE ROW EXCLUSIVE"),
    ("ALTER TABLE t ENABLE TRIGGER ALL", "SHARE ROW EXCLUSIVE"),
    ("ALTER TABLE t ATTACH PARTITION p FOR VALUES IN (1)", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t DETACH PARTITION p CONCURRENTLY", "SHARE UPDATE EXCLUSIVE"),
    ("ALTER TABLE t DETACH PARTITION p", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t SET TABLESPACE fast", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t OWNER TO bob", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t RENAME COLUMN a TO b", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE t RENAME TO u", "ACCESS EXCLUSIVE"),
    ("ALTER INDEX i RENAME TO j", "SHARE UPDATE EXCLUSIVE"),
])
def test_each_alter_table_form_takes_the_documented_lock(sql, lock):
    assert one(sql).lock_mode == lock


def test_the_strictest_subcommand_lock_wins():
    stmt = one("ALTER TABLE t ALTER COLUMN c SET STATISTICS 100, ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id)")
    assert stmt.lock_mode == "SHARE ROW EXCLUSIVE"
    assert one("ALTER TABLE t VALIDATE CONSTRAINT c, ADD COLUMN d int").lock_mode == "ACCESS EXCLUSIVE"


def test_attach_partition_locks_the_partition_access_exclusive_and_the_parent_share_update_exclusive():
    stmt = one("ALTER TABLE parent ATTACH PARTITION child FOR VALUES IN (1)")
    locks = {o.table: o.lock_mode for o in stmt.objects}
    assert locks == {"parent": "SHARE UPDATE EXCLUSIVE", "child": "ACCESS EXCLUSIVE"}


def test_foreign_key_locks_the_referenced_table_too():
    stmt = one("ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (customer_id) REFERENCES customers (id)")
    assert {o.table: o.lock_mode for o in stmt.objects} == {"orders": "SHARE ROW EXCLUSIVE",
                                                            "customers": "SHARE ROW EXCLUSIVE"}
    assert stmt.scans_table


@pytest.mark.parametrize("default, rewrites", [
    ("0", False), ("'x'", False), ("now()", False), ("CURRENT_TIMESTAMP", False), ("statement_timestamp()", False),
    ("clock_timestamp()", True), ("gen_random_uuid()", True), ("random()", True), ("timeofday()", True),
])
def test_add_column_default_rewrites_only_when_volatile_on_pg11_and_later(default, rewrites):
    stmt = one(f"ALTER TABLE t ADD COLUMN c text DEFAULT {default}")
    assert stmt.rewrites_table is rewrites


def test_any_default_rewrites_before_pg11():
    assert one("ALTER TABLE t ADD COLUMN c int DEFAULT 0", server_version_num=100000).rewrites_table


def test_serial_and_identity_columns_rewrite_the_table():
    assert one("ALTER TABLE t ADD COLUMN c bigserial").rewrites_table
    assert one("ALTER TABLE t ADD COLUMN c bigint GENERATED ALWAYS AS IDENTITY").rewrites_table
    assert not one("ALTER TABLE t ADD COLUMN c bigint").rewrites_table


def test_unknown_function_in_default_is_assumed_volatile_without_a_database_and_says_so():
    stmt = one("ALTER TABLE t ADD COLUMN c int DEFAULT my_func()")
    assert stmt.rewrites_table
    assert "unknown without the database" in stmt.notes[0]


@pytest.mark.parametrize("sql, kind, transactional, destroys", [
    ("CREATE INDEX CONCURRENTLY i ON t (a)", "CREATE_INDEX", False, False),
    ("CREATE INDEX i ON t (a)", "CREATE_INDEX", True, False),
    ("DROP INDEX CONCURRENTLY i", "DROP_INDEX", False, False),
    ("REINDEX INDEX CONCURRENTLY i", "REINDEX", False, False),
    ("VACUUM t", "VACUUM", False, False),
    ("DROP TABLE t", "DROP_TABLE", True, True),
    ("TRUNCATE t", "TRUNCATE", True, True),
    ("DELETE FROM t WHERE id = 1", "DELETE", True, True),
    ("UPDATE t SET a = 1", "UPDATE", True, True),
    ("INSERT INTO t VALUES (1)", "INSERT", True, False),
    ("DROP DATABASE d", "DROP_DATABASE", False, True),
    ("CREATE TABLE t (id bigint)", "CREATE_TABLE", True, False),
])
def test_statement_kinds_transactional_and_data_loss(sql, kind, transactional, destroys):
    stmt = one(sql)
    assert (stmt.kind, stmt.transactional, stmt.destroys_data) == (kind, transactional, destroys)


def test_enum_add_value_is_transactional_only_from_pg12():
    assert one("ALTER TYPE mood ADD VALUE 'meh'").transactional
    assert not one("ALTER TYPE mood ADD VALUE 'meh'", server_version_num=110000).transactional


def test_statements_keep_their_exact_text_and_start_line():
    stmts = parse_script("-- header\nSELECT 1;\n\n  /* c */ ALTER TABLE s.t\n  DROP COLUMN x;\n")
    assert [(s.line, s.sql) for s in stmts] == [(2, "SELECT 1"), (4, "ALTER TABLE s.t\n  DROP COLUMN x")]
    assert (stmts[1].schema, stmts[1].table, stmts[1].column) == ("s", "t", "x")


def test_syntax_errors_report_line_and_position():
    with pytest.raises(SqlSyntaxError) as err:
        parse_script("SELECT 1;\nALTER TABLE t ADD COLUMN;\n")
    assert err.value.line == 2
    assert err.value.position == 25
    assert "syntax error" in err.value.message


def test_to_dict_is_plain_json():
    import json

    data = one("ALTER TABLE t ADD COLUMN c int DEFAULT 0").to_dict()
    assert json.loads(json.dumps(data))["lock"] == "ACCESS EXCLUSIVE"
