"""The statement policy: a table of hostile and ordinary statements with the decision each must get,
run through the engine, the ``lint_migration`` command and the executor (on a real database)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from migrations_app.engines.execution import AtomicMigrationExecutor
from migrations_app.engines.statements import MigrationOperation, parse_script

REFUSE = "refuse"
ALLOW = "allow"

# (statement, decision): "refuse", "allow", or the rule id of the finding it must raise.
TABLE = [
    # transaction control
    ("BEGIN", REFUSE), ("COMMIT", REFUSE), ("ROLLBACK", REFUSE), ("SAVEPOINT s1", REFUSE),
    ("RELEASE SAVEPOINT s1", REFUSE), ("PREPARE TRANSACTION 'x'", REFUSE), ("COMMIT PREPARED 'x'", REFUSE),
    ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", REFUSE),
    ("DO $$ BEGIN CREATE TABLE c1 (id int); COMMIT; END $$", REFUSE),
    # programs and files
    ("COPY t FROM PROGRAM 'id; touch /tmp/x'", REFUSE), ("COPY t TO PROGRAM 'cat > /tmp/x'", REFUSE),
    ("COPY t FROM '/etc/passwd'", REFUSE), ("COPY t TO '/tmp/out.csv'", REFUSE), ("COPY t FROM STDIN", REFUSE),
    ("SELECT pg_read_file('/etc/passwd')", REFUSE), ("SELECT pg_ls_dir('.')", REFUSE),
    ("SELECT lo_import('/etc/passwd')", REFUSE), ("SELECT lo_export(1, '/tmp/x')", REFUSE),
    ("LOAD 'auto_explain'", REFUSE),
    ("CREATE FUNCTION evil() RETURNS int LANGUAGE c AS '/tmp/evil.so', 'evil'", REFUSE),
    ("CREATE FUNCTION sh() RETURNS int LANGUAGE plpython3u AS 'import os; return 1'", REFUSE),
    ("DO LANGUAGE plperlu $$ system('id') $$", REFUSE),
    ("CREATE FOREIGN TABLE ft (a text) SERVER files OPTIONS (program 'id')", REFUSE),
    # other databases, the cluster, roles
    ("DROP DATABASE other_db", REFUSE), ("CREATE DATABASE scratch", REFUSE), ("ALTER DATABASE shop SET work_mem = '1GB'", REFUSE),
    ("ALTER SYSTEM SET fsync = off", REFUSE), ("CREATE ROLE boss SUPERUSER LOGIN", REFUSE),
    ("ALTER ROLE app SUPERUSER", REFUSE), ("DROP ROLE app", REFUSE), ("GRANT pg_read_server_files TO app", REFUSE),
    ("DROP OWNED BY app", REFUSE), ("CREATE TABLESPACE fast LOCATION '/mnt/fast'", REFUSE),
    ("CHECKPOINT", REFUSE), ("CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION f()", REFUSE),
    # session identity and the executor's guards
    ("SET ROLE postgres", REFUSE), ("SET SESSION AUTHORIZATION postgres", REFUSE), ("RESET ALL", REFUSE),
    ("DISCARD ALL", REFUSE), ("SET lock_timeout = 0", REFUSE), ("SET LOCAL statement_timeout = 0", REFUSE),
    ("RESET lock_timeout", REFUSE), ("SET idle_in_transaction_session_timeout = 0", REFUSE),
    ("SET session_replication_role = replica", REFUSE), ("SET search_path = evil, public", REFUSE),
    ("SELECT set_config('statement_timeout', '0', false)", REFUSE),
    ("SELECT set_config(current_user, '0', false)", REFUSE),
    ("DO $$ BEGIN PERFORM set_config('lock_timeout', '0', true); END $$", REFUSE),
    # other sessions and the server
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()", REFUSE),
    ("SELECT pg_cancel_backend(1)", REFUSE), ("SELECT pg_reload_conf()", REFUSE),
    ("SELECT dblink_exec('host=elsewhere', 'DROP TABLE t')", REFUSE),
    ("SELECT query_to_xml('DROP TABLE t', true, false, '')", REFUSE),
    ("PREPARE p AS DELETE FROM t", REFUSE), ("EXECUTE p", REFUSE),
    # hidden in bodies and defaults
    ("ALTER TABLE t ADD COLUMN leak text DEFAULT pg_read_file('/etc/hostname')", REFUSE),
    ("CREATE VIEW v AS SELECT pg_read_file('/etc/passwd') AS f", REFUSE),
    ("DO $$ DECLARE x text := pg_read_file('/etc/passwd'); BEGIN NULL; END $$", REFUSE),
    ("DO $$ BEGIN EXECUTE 'COPY t FROM PROGRAM ''id'''; END $$", REFUSE),
    ("DO $$ BEGIN EXECUTE 'DO $i$ BEGIN PERFORM pg_terminate_backend(1); END $i$'; END $$", REFUSE),
    ("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_reload_conf(); END $$", REFUSE),
    ("CREATE FUNCTION g() RETURNS int LANGUAGE sql AS 'SELECT pg_cancel_backend(1)::int'", REFUSE),
    ("CREATE FUNCTION h() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT pg_cancel_backend(1)::int; END", REFUSE),
    ("DO $$ BEGIN EXECUTE 'SET lock_timeout = 0'; END $$", REFUSE),
    ("CREATE FUNCTION slow() RETURNS int LANGUAGE sql SET statement_timeout = 0 AS 'SELECT 1'", REFUSE),
    ("ALTER FUNCTION slow() SET lock_timeout = 0", REFUSE),
    ("ALTER FUNCTION slow() SET work_mem = '64MB'", ALLOW),
    ("CREATE AGGREGATE kill_all(int) (sfunc = pg_terminate_backend, stype = bool)", REFUSE),
    ("CREATE CAST (int AS bool) WITH FUNCTION pg_cancel_backend(int)", REFUSE),
    ("CREATE AGGREGATE total(int) (sfunc = int4pl, stype = int)", ALLOW),
    # findings with a floor
    ("DO $$ DECLARE q text := 'DROP TABLE t'; BEGIN EXECUTE q; END $$", "dynamic-sql"),
    ("DO $$ BEGIN EXECUTE format('DROP TABLE %I', 't'); END $$", "dynamic-sql"),
    ("CREATE FUNCTION p() RETURNS int LANGUAGE plperl AS 'return 1;'", "unreviewed-body"),
    ("CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db2')", "foreign-data-access"),
    ("CREATE EXTENSION IF NOT EXISTS pg_trgm", "create-extension"),
    ("CALL archive_orders()", "procedure-call"),
    ("VACUUM FULL t", "full-table-rewrite"), ("CLUSTER t USING t_pkey", "full-table-rewrite"),
    ("WITH gone AS (DELETE FROM t RETURNING *) SELECT count(*) FROM gone", "data-modifying-cte"),
    # ordinary migrations: allowed
    ("CREATE TABLE audit_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text)", ALLOW),
    ("ALTER TABLE t ADD COLUMN note text", ALLOW), ("ALTER TABLE t DROP COLUMN b", ALLOW),
    ("CREATE INDEX CONCURRENTLY t_b_idx ON t (b)", ALLOW), ("DROP INDEX CONCURRENTLY IF EXISTS t_b_idx", ALLOW),
    ("ALTER TABLE t RENAME COLUMN b TO c", ALLOW), ("UPDATE t SET b = 'x' WHERE a = 1", ALLOW),
    ("DELETE FROM t WHERE a > 100", ALLOW), ("INSERT INTO t (a, b) VALUES (1, 'x')", ALLOW),
    ("CREATE VIEW tv AS SELECT a FROM t", ALLOW), ("COMMENT ON TABLE t IS 'facts'", ALLOW),
    ("SET maintenance_work_mem = '256MB'", ALLOW), ("REINDEX SCHEMA public", ALLOW), ("ANALYZE t", ALLOW),
    ("DO $$ BEGIN EXECUTE 'ALTER TABLE t ADD COLUMN d bigint'; END $$", ALLOW),
    ("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.b := upper(NEW.b); RETURN NEW; END $$",
     ALLOW),
    ("GRANT SELECT ON t TO PUBLIC", ALLOW), ("CREATE POLICY own ON t USING (true)", ALLOW),
    ("SELECT count(*) FROM t", ALLOW), ("LOCK TABLE t IN SHARE MODE", ALLOW),
]


def decision_of(sql: str) -> str:
    [stmt] = parse_script(sql)
    if stmt.refusals:
        return REFUSE
    rules = sorted({v.rule for v in stmt.verdicts})
    return rules[0] if rules else ALLOW


def test_the_table_holds_at_least_sixty_hostile_and_ordinary_statements():
    assert len(TABLE) >= 60
    assert sum(d == REFUSE for _, d in TABLE) >= 40 and sum(d == ALLOW for _, d in TABLE) >= 15


@pytest.mark.parametrize("sql, expected", TABLE, ids=[s[:60] for s, _ in TABLE])
def test_the_policy_decides_each_statement_as_the_table_says(sql, expected):
    assert decision_of(sql) == expected


def test_the_lint_command_refuses_with_exit_3_and_scores_findings_by_their_floor(tmp_path, capsys):
    outcomes = {}
    for number, (sql, expected) in enumerate(TABLE):
        path = tmp_path / f"case{number}.sql"
        path.write_text(sql + ";\n")
        try:
            call_command("lint_migration", str(path), "--json")
            code = 0
        except SystemExit as exc:
            code = exc.code
        outcomes[sql] = code
        capsys.readouterr()
    wrong = {sql: code for sql, code in outcomes.items()
             if (code == 3) != (dict(TABLE)[sql] == REFUSE) or code not in (0, 3)}
    assert not wrong
    print(f"\nlint_migration over the policy table: {sum(c == 3 for c in outcomes.values())} refused (exit 3), "
          f"{sum(c == 0 for c in outcomes.values())} analysed (exit 0), of {len(outcomes)}")


def test_a_finding_raises_the_risk_to_its_floor_through_the_command(tmp_path, capsys):
    path = tmp_path / "dyn.sql"
    path.write_text("DO $$ DECLARE q text := 'DROP TABLE t'; BEGIN EXECUTE q; END $$;\n")
    with pytest.raises(SystemExit) as exc:
        call_command("lint_migration", str(path), "--fail-on", "HIGH")
    assert exc.value.code == 1
    assert "floor HIGH" in capsys.readouterr().out


POLICY_SCHEMA = """
CREATE TABLE t (a int PRIMARY KEY, b text);
INSERT INTO t VALUES (1, 'one'), (2, 'two');
CREATE TABLE marker_source (id int);
"""


@pytest.fixture
def policy_target(target_db):
    return target_db(POLICY_SCHEMA)


def _tables(target) -> set[str]:
    with target.connect(autocommit=True) as conn:
        return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def test_the_executor_refuses_every_refused_statement_before_anything_runs(policy_target):
    refused = [sql for sql, decision in TABLE if decision == REFUSE]
    executor = AtomicMigrationExecutor(policy_target, lock_wait_seconds=2)
    for sql in refused:
        operations = [MigrationOperation("CREATE_TABLE", "ran_first", "CREATE TABLE ran_first (id int)"),
                      MigrationOperation("OTHER", "t", sql)]
        result = executor.execute_atomic_migration(operations)
        assert not result.success and "refused by the statement policy" in result.error_message, sql
        assert not result.statement_log, sql
    assert "ran_first" not in _tables(policy_target)
    print(f"\nexecutor: {len(refused)} refused statements, none reached the database")


def test_the_executor_refuses_a_refused_rollback_sql_before_the_forward_sql_runs(policy_target):
    op = MigrationOperation("CREATE_INDEX", "t", "CREATE INDEX t_b_idx ON t (b)",
                            rollback_sql="COPY t TO PROGRAM 'cat > /tmp/leak'")
    result = AtomicMigrationExecutor(policy_target, lock_wait_seconds=2).execute_atomic_migration([op])
    assert not result.success and "refused" in result.error_message and not result.statement_log


def test_the_executor_runs_the_ordinary_statements_of_the_table(policy_target):
    ordinary = ["ALTER TABLE t ADD COLUMN note text", "CREATE INDEX CONCURRENTLY t_b_idx ON t (b)",
                "DROP INDEX CONCURRENTLY IF EXISTS t_b_idx", "UPDATE t SET b = 'x' WHERE a = 1",
                "COMMENT ON TABLE t IS 'facts'", "SET maintenance_work_mem = '256MB'", "REINDEX SCHEMA public",
                "DO $$ BEGIN EXECUTE 'ALTER TABLE t ADD COLUMN d bigint'; END $$", "ANALYZE t"]
    result = AtomicMigrationExecutor(policy_target, lock_wait_seconds=2).execute_atomic_migration(
        [MigrationOperation("OTHER", "t", sql) for sql in ordinary])
    assert result.success, result.error_message
    # REINDEX SCHEMA cannot run inside a transaction block: it ran alone, in autocommit
    reindex = next(e for e in result.statement_log if e.sql == "REINDEX SCHEMA public")
    assert reindex.transactional is False


EXISTING_FUNCTIONS = """
CREATE TABLE t (a int PRIMARY KEY, b text);
CREATE FUNCTION exec_sql(q text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE q; END $$;
CREATE FUNCTION kick(p int) RETURNS boolean LANGUAGE sql AS 'SELECT pg_terminate_backend(p)';
CREATE FUNCTION tidy(x text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower(x)';
"""


def test_a_call_of_an_existing_function_is_judged_by_its_body(target_db):
    from migrations_app.engines.plan_analysis import analyze_plan

    target = target_db(EXISTING_FUNCTIONS)
    hidden = analyze_plan("SELECT exec_sql('DROP TABLE t')", target)
    assert any(f.rule == "dynamic-sql" and "existing function public.exec_sql" in f.message for f in hidden.findings)
    assert hidden.risk.risk_level.value in ("HIGH", "CRITICAL")
    refused = analyze_plan("SELECT kick(42)", target)
    assert refused.refused and "pg_terminate_backend" in refused.refused[0]
    plain = analyze_plan("UPDATE t SET b = tidy(b) WHERE a = 1", target)
    assert not plain.refused and not any(f.rule == "dynamic-sql" for f in plain.findings)
