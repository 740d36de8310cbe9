"""Rollback SQL for DROP INDEX / CONSTRAINT / VIEW / FUNCTION / TRIGGER / POLICY comes from the
live catalog: each object is dropped for real, its derived rollback (and the follow-up SQL the
reason names) is run in a session whose search_path is the executor's (plan schema first), and
the catalog afterwards equals the catalog before (schema digest, definitions, comments, grants)."""

import uuid

import psycopg
import pytest

from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.engines.risk import Thresholds, fetch_catalog_facts
from migrations_app.engines.rollback import definition_requests, suggest_rollback
from migrations_app.engines.execution import schema_digest
from migrations_app.engines.statements import parse_script

SCHEMAS = ("Odd Schema", "public", "sales")

ODD_SQL = """
CREATE SCHEMA "Odd Schema";
CREATE SCHEMA sales;
CREATE TABLE "Odd Schema"."Order Lines" (
    id int PRIMARY KEY, "Sku" text NOT NULL, qty int, price numeric(10, 2), during tsrange,
    CONSTRAINT "No Overlap" EXCLUDE USING gist (during WITH &&) WHERE (qty > 0)
);
INSERT INTO "Odd Schema"."Order Lines"
SELECT g, 'sku-' || g, g % 7, g, tsrange('2024-01-01'::timestamp + g * interval '1 day',
                                         '2024-01-01'::timestamp + (g + 1) * interval '1 day')
FROM generate_series(1, 200) g;
CREATE UNIQUE INDEX "Lines: lower sku" ON "Odd Schema"."Order Lines" (lower("Sku"), qty) WHERE qty > 0;
COMMENT ON INDEX "Odd Schema"."Lines: lower sku" IS 'sku lookups';
CREATE TABLE sales."Parent" (id int PRIMARY KEY);
INSERT INTO sales."Parent" SELECT generate_series(1, 10);
CREATE TABLE "Odd Schema".child (
    id int, parent_id int CONSTRAINT "Child → Parent" REFERENCES sales."Parent" (id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
COMMENT ON CONSTRAINT "Child → Parent" ON "Odd Schema".child IS 'owned rows go with their parent';
CREATE TABLE public.plain (a int);
CREATE TABLE sales.plain (b text);
CREATE VIEW sales."On Plain" AS SELECT a FROM public.plain WHERE a > 0;
CREATE VIEW "Odd Schema"."Base View" WITH (security_invoker = true) AS
    SELECT id, "Sku" FROM "Odd Schema"."Order Lines" WHERE qty > 0;
CREATE VIEW public."Top View" WITH (security_invoker = true, security_barrier = true, check_option = cascaded) AS
    SELECT id, "Sku" AS sku FROM "Odd Schema"."Base View" WHERE id < 100;
COMMENT ON VIEW public."Top View" IS 'the top';
COMMENT ON COLUMN public."Top View".sku IS 'stock keeping unit';
GRANT SELECT ON public."Top View" TO {role};
CREATE MATERIALIZED VIEW sales."Totals" AS SELECT qty, count(*) AS lines FROM "Odd Schema"."Order Lines" GROUP BY qty;
CREATE UNIQUE INDEX totals_qty ON sales."Totals" (qty);
CREATE FUNCTION "Odd Schema"."Price Of"(integer) RETURNS numeric LANGUAGE sql STABLE
    AS $$ SELECT price FROM "Odd Schema"."Order Lines" WHERE id = $1 $$;
CREATE FUNCTION "Odd Schema"."Price Of"(text, numeric[]) RETURNS numeric LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog
    AS $$ BEGIN RETURN coalesce($2[1], 0); END $$;
COMMENT ON FUNCTION "Odd Schema"."Price Of"(text, numeric[]) IS 'price by sku';
REVOKE ALL ON FUNCTION "Odd Schema"."Price Of"(text, numeric[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "Odd Schema"."Price Of"(text, numeric[]) TO {role};
CREATE PROCEDURE sales.bump(amount int) LANGUAGE sql
    AS $$ UPDATE "Odd Schema"."Order Lines" SET qty = qty + amount WHERE id = 1 $$;
CREATE FUNCTION "Odd Schema".touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER "Touch Qty" BEFORE UPDATE OF qty ON "Odd Schema"."Order Lines"
    FOR EACH ROW WHEN (OLD.qty IS DISTINCT FROM NEW.qty) EXECUTE FUNCTION "Odd Schema".touch();
CREATE TRIGGER "Sleeping" AFTER INSERT ON "Odd Schema"."Order Lines"
    FOR EACH STATEMENT EXECUTE FUNCTION "Odd Schema".touch();
ALTER TABLE "Odd Schema"."Order Lines" DISABLE TRIGGER "Sleeping";
ALTER TABLE "Odd Schema"."Order Lines" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Only Positive" ON "Odd Schema"."Order Lines" AS RESTRICTIVE FOR UPDATE TO {role}, CURRENT_USER
    USING (qty > 0) WITH CHECK (price >= 0);
COMMENT ON POLICY "Only Positive" ON "Odd Schema"."Order Lines" IS 'no negative prices';
ANALYZE;
"""

# what the digest does not cover: comments and privileges
EXTRAS_SQL = """
SELECT d.classoid::regclass::text AS catalog, d.objsubid,
       coalesce(c.relname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                con.conname, tg.tgname, pol.polname) AS object, d.description
FROM pg_description d
LEFT JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
LEFT JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid
LEFT JOIN pg_constraint con ON d.classoid = 'pg_constraint'::regclass AND con.oid = d.objoid
LEFT JOIN pg_trigger tg ON d.classoid = 'pg_trigger'::regclass AND tg.oid = d.objoid
LEFT JOIN pg_policy pol ON d.classoid = 'pg_policy'::regclass AND pol.oid = d.objoid
WHERE coalesce(c.relnamespace, p.pronamespace, con.connamespace) IN
      (SELECT oid FROM pg_namespace WHERE nspname = ANY(%(schemas)s)) OR tg.oid IS NOT NULL OR pol.oid IS NOT NULL
UNION ALL
SELECT 'acl', 0, c.relname, c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s) AND c.relacl IS NOT NULL
UNION ALL
SELECT 'acl', 0, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.proacl::text
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY(%(schemas)s) AND p.proacl IS NOT NULL
ORDER BY 1, 2, 3
"""


@pytest.fixture
def role():
    """A role of its own per test (roles are cluster-wide; tests run in parallel)."""
    from tests.pg import admin_connect

    name = f"rb_reader_{uuid.uuid4().hex[:8]}"
    with admin_connect() as conn:
        conn.execute(f'CREATE ROLE "{name}"')
    yield name
    with admin_connect() as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture
def odd(role, target_db):
    return target_db(ODD_SQL.replace("{role}", f'"{role}"'))


def _snapshot(target):
    with target.connect() as conn:
        extras = conn.execute(EXTRAS_SQL, {"schemas": list(SCHEMAS)}).fetchall()
    return schema_digest(target, SCHEMAS), extras


def _round_trip(target, drop_sql, *, plan_schema="public", catalog=None):
    """Drop for real, run the derived rollback and its follow-up SQL in the executor's search_path,
    and assert the catalog is back. Returns the suggestion."""
    before, extras_before = _snapshot(target)
    statement = parse_script(drop_sql)[0]
    if catalog is None:
        with target.connect(read_only=True) as reader:   # as at authoring: a read-only transaction
            suggestion = suggest_rollback(statement, reader, schema=plan_schema)
    else:
        suggestion = suggest_rollback(statement, catalog, schema=plan_schema)
    assert suggestion.sql, suggestion.reason
    assert len(parse_script(suggestion.sql)) == 1
    with target.connect(autocommit=True) as conn:
        executor_path = psycopg.sql.SQL("{}, public").format(psycopg.sql.Identifier(plan_schema))
        conn.execute(psycopg.sql.SQL("SET search_path = {}").format(executor_path))
        conn.execute(drop_sql)
        dropped, _ = _snapshot(target)
        assert before.differences(dropped), "the DROP changed nothing"
        conn.execute(suggestion.sql)
        for follow_up in suggestion.follow_up:
            conn.execute(follow_up)
    after, extras_after = _snapshot(target)
    assert before.differences(after) == {}
    assert before.digest == after.digest
    assert extras_after == extras_before
    return suggestion


def test_partial_expression_unique_index_is_rebuilt_with_its_comment(odd):
    suggestion = _round_trip(odd, 'DROP INDEX "Odd Schema"."Lines: lower sku"')
    assert suggestion.sql.startswith('CREATE UNIQUE INDEX "Lines: lower sku" ON "Odd Schema"."Order Lines"')
    assert "WHERE (qty > 0)" in suggestion.sql and "CONCURRENTLY" not in suggestion.sql
    assert "COMMENT ON INDEX" in suggestion.reason and suggestion.follow_up == [
        """COMMENT ON INDEX "Odd Schema"."Lines: lower sku" IS 'sku lookups'"""]


def test_concurrent_drop_is_rolled_back_by_a_concurrent_build(odd):
    suggestion = _round_trip(odd, 'DROP INDEX CONCURRENTLY "Odd Schema"."Lines: lower sku"')
    assert suggestion.sql.startswith("CREATE UNIQUE INDEX CONCURRENTLY ")
    assert "the drop was concurrent" in suggestion.reason


def test_index_on_a_large_table_is_rebuilt_concurrently_at_analysis_time(odd):
    tiny = Thresholds(large_table_rows=40)
    report = analyze_plan('DROP INDEX "Odd Schema"."Lines: lower sku"', odd, thresholds=tiny)
    rollback = report.rollbacks[0]
    assert rollback.sql.startswith("CREATE UNIQUE INDEX CONCURRENTLY ") and "the table is large" in rollback.reason
    assert "rollback-touches-other-objects" not in {f.rule for f in report.findings}


def test_foreign_key_with_on_delete_cascade_is_re_added_as_it_was(odd):
    suggestion = _round_trip(odd, 'ALTER TABLE "Odd Schema".child DROP CONSTRAINT "Child → Parent"')
    assert suggestion.sql == ('ALTER TABLE "Odd Schema".child ADD CONSTRAINT "Child → Parent" FOREIGN KEY (parent_id) '
                              'REFERENCES sales."Parent"(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED')


def test_exclusion_constraint_is_re_added_with_its_predicate(odd):
    suggestion = _round_trip(odd, 'ALTER TABLE "Odd Schema"."Order Lines" DROP CONSTRAINT "No Overlap"')
    assert "EXCLUDE USING gist (during WITH &&) WHERE ((qty > 0))" in suggestion.sql


def test_primary_key_dropped_with_cascade_names_the_foreign_keys_it_took(odd):
    suggestion = _round_trip(odd, 'ALTER TABLE sales."Parent" DROP CONSTRAINT "Parent_pkey" CASCADE',
                             plan_schema="sales")
    assert suggestion.sql == 'ALTER TABLE sales."Parent" ADD CONSTRAINT "Parent_pkey" PRIMARY KEY (id)'
    assert any(f.startswith('ALTER TABLE "Odd Schema".child ADD CONSTRAINT "Child → Parent"') for f in suggestion.follow_up)
    assert "foreign keys dropped by CASCADE" in suggestion.reason and suggestion.follow_up[-1] == (
        """COMMENT ON CONSTRAINT "Child → Parent" ON "Odd Schema".child IS 'owned rows go with their parent'""")


def test_view_on_view_keeps_security_invoker_barrier_check_option_comments_and_grants(odd, role):
    suggestion = _round_trip(odd, 'DROP VIEW "Top View"')
    assert suggestion.sql.startswith('CREATE VIEW public."Top View" WITH (security_invoker = \'true\', '
                                     "security_barrier = 'true', check_option = 'cascaded') AS")
    assert '"Odd Schema"."Base View"' in suggestion.sql
    assert f'GRANT SELECT ON public."Top View" TO {role}' in suggestion.follow_up
    assert "not restored by this statement (comment, column comments, grant)" in suggestion.reason


def test_view_text_is_fully_qualified_so_the_executors_search_path_cannot_redirect_it(odd):
    # sales.plain shadows public.plain on the executor's path (sales, public)
    suggestion = _round_trip(odd, 'DROP VIEW sales."On Plain"', plan_schema="sales")
    assert "FROM public.plain" in suggestion.sql


def test_reading_definitions_leaves_the_sessions_search_path_as_it_was(odd):
    statement = parse_script('DROP VIEW sales."On Plain"')[0]
    for autocommit in (False, True):
        with odd.connect(autocommit=autocommit) as conn:
            conn.execute("SET search_path = sales, public")
            suggest_rollback(statement, conn, schema="sales")
            assert conn.execute("SHOW search_path").fetchone()[0] == "sales, public"


def test_materialized_view_is_refilled_and_its_indexes_listed(odd):
    suggestion = _round_trip(odd, 'DROP MATERIALIZED VIEW sales."Totals"', plan_schema="sales")
    assert suggestion.sql.startswith('CREATE MATERIALIZED VIEW sales."Totals" AS') and suggestion.sql.endswith("WITH DATA")
    assert suggestion.follow_up == ['CREATE UNIQUE INDEX totals_qty ON sales."Totals" USING btree (qty)']


def test_overloaded_function_is_found_by_its_argument_types_with_grants_and_comment(odd, role):
    suggestion = _round_trip(odd, 'DROP FUNCTION "Odd Schema"."Price Of"(text, numeric[])')
    assert suggestion.sql.startswith('CREATE OR REPLACE FUNCTION "Odd Schema"."Price Of"(text, numeric[])')
    assert "SECURITY DEFINER" in suggestion.sql and "SET search_path TO 'pg_catalog'" in suggestion.sql
    assert suggestion.follow_up == [
        """COMMENT ON FUNCTION "Odd Schema"."Price Of"(text, numeric[]) IS 'price by sku'""",
        'REVOKE ALL ON FUNCTION "Odd Schema"."Price Of"(text, numeric[]) FROM PUBLIC',
        f'GRANT EXECUTE ON FUNCTION "Odd Schema"."Price Of"(text, numeric[]) TO {role}']
    other = _round_trip(odd, 'DROP FUNCTION "Odd Schema"."Price Of"(int4)')
    assert '"Price Of"(integer)' in other.sql and other.follow_up == []


def test_overloaded_function_without_argument_types_is_refused_rather_than_guessed(odd):
    with odd.connect(read_only=True) as reader:
        suggestion = suggest_rollback(parse_script('DROP FUNCTION "Odd Schema"."Price Of"')[0], reader)
    assert suggestion.sql is None
    assert "2 functions match" in suggestion.reason and "refusing to guess" in suggestion.reason


def test_procedure_is_recreated(odd):
    suggestion = _round_trip(odd, "DROP PROCEDURE bump(int)", plan_schema="sales")
    assert suggestion.sql.startswith("CREATE OR REPLACE PROCEDURE sales.bump(IN amount integer)")


def test_trigger_with_when_clause_is_recreated(odd):
    suggestion = _round_trip(odd, 'DROP TRIGGER "Touch Qty" ON "Odd Schema"."Order Lines"')
    assert "WHEN ((old.qty IS DISTINCT FROM new.qty))" in suggestion.sql
    assert suggestion.sql.endswith('EXECUTE FUNCTION "Odd Schema".touch()')


def test_disabled_trigger_comes_back_disabled_through_the_follow_up(odd):
    suggestion = _round_trip(odd, 'DROP TRIGGER "Sleeping" ON "Odd Schema"."Order Lines"')
    assert suggestion.follow_up == ['ALTER TABLE "Odd Schema"."Order Lines" DISABLE TRIGGER "Sleeping"']
    assert "enabled state" in suggestion.reason


def test_restrictive_policy_with_roles_is_rebuilt_from_pg_policy(odd, role):
    suggestion = _round_trip(odd, 'DROP POLICY "Only Positive" ON "Odd Schema"."Order Lines"')
    assert suggestion.sql == (f'CREATE POLICY "Only Positive" ON "Odd Schema"."Order Lines" AS RESTRICTIVE FOR UPDATE '
                              f'TO {role}, postgres USING ((qty > 0)) WITH CHECK ((price >= (0)::numeric))')


def test_prefetched_facts_give_the_same_rollbacks_as_a_direct_connection(odd):
    plan = ['DROP INDEX "Odd Schema"."Lines: lower sku"', 'DROP VIEW "Top View"',
            'DROP FUNCTION "Odd Schema"."Price Of"(text, numeric[])', 'DROP POLICY "Only Positive" ON "Odd Schema"."Order Lines"',
            'DROP TRIGGER "Touch Qty" ON "Odd Schema"."Order Lines"', 'ALTER TABLE "Odd Schema".child DROP CONSTRAINT "Child → Parent"']
    report = analyze_plan(";\n".join(plan), odd)
    with odd.connect(read_only=True) as reader:
        direct = [suggest_rollback(s, reader) for s in parse_script(";\n".join(plan))]
    assert [r.to_dict() for r in report.rollbacks] == [d.to_dict() for d in direct]
    assert all(r.sql for r in report.rollbacks)


def test_definitions_for_many_drops_take_one_query(odd):
    plan = 'DROP VIEW "Top View";\n' + ";\n".join(f"DROP INDEX IF EXISTS missing_{i}" for i in range(30))
    with odd.connect(read_only=True) as conn:
        one = fetch_catalog_facts(conn, [], definitions=definition_requests(parse_script('DROP VIEW "Top View"'), "public"))
        many = fetch_catalog_facts(conn, [], definitions=definition_requests(parse_script(plan), "public"))
        none = fetch_catalog_facts(conn, [])
    assert one.queries_run == many.queries_run == 7 and none.queries_run == 6
    assert len(many.definitions) == 31


def test_without_a_database_the_reason_says_the_definition_is_needed():
    suggestion = suggest_rollback(parse_script("DROP INDEX i")[0], None)
    assert suggestion.sql is None and "current definition" in suggestion.reason


def test_a_missing_object_with_if_exists_needs_no_rollback_and_without_it_is_named(odd):
    with odd.connect(read_only=True) as reader:
        quiet = suggest_rollback(parse_script("DROP VIEW IF EXISTS ghost")[0], reader)
        loud = suggest_rollback(parse_script("DROP POLICY ghost ON plain")[0], reader)
    assert quiet.sql is None and "nothing to roll back" in quiet.reason
    assert loud.sql is None and "ghost not found in the catalog" in loud.reason


def test_one_drop_of_two_objects_asks_for_one_statement_per_object(odd):
    with odd.connect(read_only=True) as reader:
        suggestion = suggest_rollback(parse_script('DROP VIEW "Top View", sales."On Plain"')[0], reader)
    assert suggestion.sql is None and "one DROP per object" in suggestion.reason


def test_index_behind_a_constraint_is_not_given_a_rollback(odd):
    with odd.connect(read_only=True) as reader:
        suggestion = suggest_rollback(parse_script('DROP INDEX "Odd Schema"."No Overlap"')[0], reader)
    assert suggestion.sql is None and 'implements constraint "No Overlap"' in suggestion.reason
