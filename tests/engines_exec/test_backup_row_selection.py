"""A DELETE / UPDATE is backed up only when its WHERE picks the same rows twice.

The backup copies what the WHERE selects just before the statement, and the executor checks
only that the statement changed as many rows as were copied. A WHERE that picks rows by LIMIT,
OFFSET, FETCH FIRST, TABLESAMPLE, SKIP LOCKED, DISTINCT ON, an order-dependent window function or
a volatile function can pick the same NUMBER of DIFFERENT rows: the copy would hold the wrong
rows and a rollback would restore them and say "data verified". Such an operation is not backed
up: it is irreversible for data, and the reason names what picks the rows. Deterministic WHEREs
(comparisons, now(), IN (SELECT ...) without LIMIT, IMMUTABLE / STABLE functions) are backed up
and their rollback verified as before."""

from __future__ import annotations

import pytest

from migrations_app.engines.statements import MigrationOperation
from tests import pg

SCHEMA = """
CREATE TABLE logs (id integer PRIMARY KEY, created_at timestamptz NOT NULL, body text);
INSERT INTO logs SELECT g, now() - g * interval '1 day', 'l' || g FROM generate_series(1, 200) AS g;
CREATE TABLE t (id integer PRIMARY KEY, score integer NOT NULL, flag boolean NOT NULL DEFAULT false);
INSERT INTO t SELECT g, g % 4, false FROM generate_series(1, 20) AS g;
CREATE SEQUENCE picks;
CREATE FUNCTION pick_some(i integer) RETURNS boolean LANGUAGE sql VOLATILE AS $$ SELECT random() < 0.5 $$;
CREATE FUNCTION is_even(i integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT i % 2 = 0 $$;
CREATE FUNCTION old_cutoff() RETURNS timestamptz LANGUAGE sql STABLE AS $$ SELECT now() - interval '90 days' $$;
CREATE VIEW newest AS SELECT id FROM t ORDER BY id DESC LIMIT 3;
CREATE VIEW through_newest AS SELECT id FROM newest;
CREATE VIEW coin AS SELECT id FROM t WHERE random() < 0.5;
CREATE VIEW high AS SELECT id FROM t WHERE score > 2;
CREATE FUNCTION coin_eq(a integer, b integer) RETURNS boolean LANGUAGE sql VOLATILE AS $$ SELECT a = b $$;
CREATE OPERATOR === (LEFTARG = integer, RIGHTARG = integer, FUNCTION = coin_eq);
CREATE SCHEMA app;
CREATE FUNCTION app.chosen(i integer) RETURNS boolean LANGUAGE sql VOLATILE AS $$ SELECT random() < 0.5 $$;
CREATE FUNCTION public.chosen(i integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT i > 10 $$;
"""
WHY = "(no copy taken beforehand can be known to hold the same rows)"

NONDETERMINISTIC = {
    "limit": ("DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE created_at < now() - interval '90 days' "
              "LIMIT 1000)", f"the WHERE picks rows with LIMIT {WHY}"),
    "order_by_random_limit": ("DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT 5)",
                              f"the WHERE picks rows with LIMIT and calls random(), a volatile function {WHY}"),
    "tablesample": ("UPDATE t SET flag = true WHERE id IN (SELECT id FROM t TABLESAMPLE SYSTEM (10))",
                    f"the WHERE picks rows with TABLESAMPLE {WHY}"),
    "random_comparison": ("DELETE FROM t WHERE random() < 0.5", f"the WHERE calls random(), a volatile function {WHY}"),
    "user_volatile_function": ("DELETE FROM t WHERE pick_some(id)",
                               f"the WHERE calls pick_some(), a volatile function {WHY}"),
    "fetch_first": ("DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY id FETCH FIRST 3 ROWS ONLY)",
                    f"the WHERE picks rows with FETCH FIRST {WHY}"),
    "offset": ("DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY score OFFSET 15)",
               f"the WHERE picks rows with OFFSET {WHY}"),
    "clock_timestamp": ("DELETE FROM logs WHERE created_at < clock_timestamp() - interval '90 days'",
                        f"the WHERE calls clock_timestamp(), a volatile function {WHY}"),
    "several_builtins": ("UPDATE t SET flag = true WHERE gen_random_uuid() IS NOT NULL AND id > nextval('picks') "
                         "AND timeofday() <> ''",
                         "the WHERE calls gen_random_uuid(), nextval() and timeofday(), volatile functions"),
    "skip_locked": ("UPDATE t SET flag = true WHERE id IN (SELECT id FROM t WHERE NOT flag FOR UPDATE SKIP LOCKED)",
                    f"the WHERE picks rows with SKIP LOCKED {WHY}"),
    "distinct_on": ("DELETE FROM t WHERE id IN (SELECT DISTINCT ON (score) id FROM t)",
                    f"the WHERE picks rows with DISTINCT ON {WHY}"),
    "row_number": ("DELETE FROM t WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY score) AS n "
                   "FROM t) AS s WHERE n = 1)", f"the WHERE picks rows with row_number() OVER (...) {WHY}"),
    "view_with_limit": ("DELETE FROM t WHERE id IN (SELECT id FROM through_newest)",
                        "the WHERE reads view through_newest, which through view public.newest picks rows with LIMIT"),
    "view_with_random": ("DELETE FROM t WHERE id IN (SELECT id FROM coin)",
                         "the WHERE reads view coin, which calls pg_catalog.random(), a volatile function"),
    "volatile_operator": ("DELETE FROM t WHERE id === 3", "the WHERE uses the operator ===, whose function is volatile"),
    "unknown_function": ("DELETE FROM t WHERE not_there(id)",
                         "the WHERE calls not_there(), which cannot be found (searched pg_catalog, public): "
                         "taken as volatile"),
}

DETERMINISTIC = {
    "comparison": "DELETE FROM t WHERE score = 1",
    "now_is_stable": "DELETE FROM logs WHERE created_at < now() - interval '90 days'",
    "in_select_without_limit": "DELETE FROM t WHERE id IN (SELECT id FROM t WHERE score > 1)",
    "immutable_function": "UPDATE t SET flag = true WHERE is_even(id)",
    "stable_function": "DELETE FROM logs WHERE created_at < old_cutoff()",
    "limit_under_exists": "DELETE FROM t WHERE EXISTS (SELECT 1 FROM t AS o WHERE o.id = t.id + 1 LIMIT 1)",
    "fetch_with_ties": "DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY score FETCH FIRST 2 ROWS WITH TIES)",
    "limit_all_offset_0": "DELETE FROM t WHERE id IN (SELECT id FROM t WHERE score = 0 LIMIT ALL OFFSET 0)",
    "rank_shares_ties": "DELETE FROM t WHERE id IN (SELECT id FROM (SELECT id, rank() OVER (ORDER BY score) AS r "
                        "FROM t) AS s WHERE r = 1)",
    "plain_view": "UPDATE t SET flag = true WHERE id IN (SELECT id FROM high)",
    "volatile_set_value": "UPDATE t SET score = floor(random() * 10) WHERE score = 3",
}


@pytest.fixture(scope="module")
def shop():
    target = pg.create_database(SCHEMA)
    yield target
    pg.drop_database(target.dbname)


def op(sql: str, schema: str = "public") -> MigrationOperation:
    kind = sql.split()[0].upper()
    table = sql.split()[2] if kind == "DELETE" else sql.split()[1]
    return MigrationOperation(type=kind, table_name=table, sql=sql, schema=schema)


def rows(target):
    with target.read_only() as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall() for table in ("t", "logs")}


@pytest.mark.parametrize("case", sorted(NONDETERMINISTIC))
def test_a_where_that_may_pick_different_rows_is_not_backed_up_and_says_why(shop, fast_executor, case):
    sql, reason = NONDETERMINISTIC[case]
    plan = fast_executor(shop).prepare_rollback_plan([op(sql)])
    assert plan.backups == [] and not plan.data_reversible
    assert len(plan.data_unchecked) == 1
    reasons = plan.data_unchecked[0]["reasons"]
    assert any(reason in r for r in reasons), reasons
    assert all(r.endswith(WHY) for r in reasons), reasons
    # the irreversible list, which the rollback plan and the gate show, carries the same reason
    assert reasons[0] in plan.irreversible_operations[0]["reasons"]


@pytest.mark.parametrize("case", sorted(DETERMINISTIC))
def test_a_deterministic_where_is_still_backed_up_and_its_rollback_verified(target_db, fast_executor, case):
    target = target_db(SCHEMA)
    executor = fast_executor(target)
    before = rows(target)
    result = executor.execute_atomic_migration([op(DETERMINISTIC[case])])
    assert result.success, result.error_message
    plan = result.rollback_plan
    assert plan.data_reversible and len(plan.backups) == 1, plan.data_unchecked
    changed = [e.rows for e in result.statement_log if e.phase == "migration"]
    assert changed == [plan.backups[0].rows] and changed[0] > 0
    assert rows(target) != before

    undo = executor.execute_rollback_plan(plan)
    assert undo.success and undo.data_verified is True and undo.verified is True, undo.error_message
    assert undo.data_verification["status"] == "verified"
    assert rows(target) == before


def test_the_search_path_of_the_plan_decides_which_function_a_where_calls(shop, fast_executor):
    executor = fast_executor(shop)
    # unqualified: the plan's schema first (app.chosen, VOLATILE), then public (IMMUTABLE)
    in_app = executor.prepare_rollback_plan([op("DELETE FROM public.t WHERE chosen(id)", schema="app")])
    assert in_app.backups == []
    assert "calls chosen(), a volatile function" in in_app.data_unchecked[0]["reasons"][0]
    in_public = executor.prepare_rollback_plan([op("DELETE FROM public.t WHERE chosen(id)")])
    assert len(in_public.backups) == 1 and in_public.data_reversible
    qualified = executor.prepare_rollback_plan([op("DELETE FROM t WHERE app.chosen(id)")])
    assert "calls app.chosen(), a volatile function" in qualified.data_unchecked[0]["reasons"][0]


def test_a_function_the_plan_redefines_before_the_where_runs_is_not_trusted(shop, fast_executor):
    redefine = MigrationOperation(
        type="CREATE_FUNCTION", table_name="", rollback_sql="SELECT 1",
        sql="CREATE OR REPLACE FUNCTION is_even(i integer) RETURNS boolean LANGUAGE sql VOLATILE "
            "AS $$ SELECT random() < 0.5 $$")
    plan = fast_executor(shop).prepare_rollback_plan([redefine, op("DELETE FROM t WHERE is_even(id)")])
    assert plan.backups == []
    assert ("calls is_even(), which operation 1 of this plan (re)defines: its volatility when the statement runs "
            "is not known beforehand") in plan.data_unchecked[0]["reasons"][0]
    # on its own, the same DELETE calls the IMMUTABLE is_even() the catalog has: backed up
    alone = fast_executor(shop).prepare_rollback_plan([op("DELETE FROM t WHERE is_even(id)")])
    assert len(alone.backups) == 1


def test_a_random_pick_of_5_of_20_rows_is_not_restored_and_never_called_verified(target_db, fast_executor):
    target = target_db("CREATE TABLE t (id integer PRIMARY KEY, body text NOT NULL);"
                       "INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 20) AS g;")
    delete = "DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT 5)"
    # the harm the old behaviour did: a copy taken just before by the same WHERE (what the backup was)
    # holds 5 rows, the DELETE removes 5 rows, the count check passes, and they are other rows
    with target.connect() as conn:
        conn.execute("SELECT setseed(0.25)")
        copied = {r[0] for r in conn.execute(f"SELECT id FROM t WHERE id IN (SELECT id FROM t ORDER BY random() "
                                             f"LIMIT 5)")}
        removed = {r[0] for r in conn.execute(delete + " RETURNING id")}
        conn.rollback()
    assert len(copied) == len(removed) == 5 and copied != removed

    executor = fast_executor(target)
    result = executor.execute_atomic_migration([op(delete)])
    assert result.success, result.error_message
    assert [e.phase for e in result.statement_log] == ["migration"]   # no copy of the wrong rows is taken
    assert result.statement_log[0].rows == 5
    plan = result.rollback_plan
    assert plan.backups == [] and not plan.data_reversible
    reason = plan.data_unchecked[0]["reasons"][0]
    assert reason == ("the WHERE picks rows with LIMIT and calls random(), a volatile function "
                      "(no copy taken beforehand can be known to hold the same rows)")

    undo = executor.execute_rollback_plan(plan)
    assert undo.data_verified is not True and undo.verified is False
    assert undo.data_verification["status"] == "not_restored"
    assert undo.data_verification["checked"] == []
    summary = undo.data_verification["summary"]
    assert summary.startswith("data NOT restored: operation 1 (DELETE t): ") and reason in summary
    assert "verified" not in summary
    with target.read_only() as conn:   # the 5 rows stay deleted, as the rollback says
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 15
