"""The one-statement analysis, the body pre-test and the parse cache (real PostgreSQL)."""

import pytest

from migrations_app.engines.dependencies import DependencyAnalyzer, DependencyType, ImpactLevel
from migrations_app.engines.dependencies.plpgsql_refs import PARSE_CACHE, BodyParseError, may_mention, parsed_fragments

SCHEMA = r'''
CREATE SCHEMA app;
CREATE TABLE app.orders (id int PRIMARY KEY, status text, legacy_status text, "odd""name" int);
CREATE FUNCTION app.close_order(p_id int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE app.orders SET status = 'closed' WHERE id = p_id;
END $$;
CREATE FUNCTION app.escaped_status() RETURNS SETOF text LANGUAGE sql AS $$
  SELECT U&"st\0061tus" FROM app.orders
$$;
CREATE FUNCTION app.odd_reader() RETURNS SETOF int LANGUAGE sql AS $$
  SELECT "odd""name" FROM app.orders
$$;
CREATE FUNCTION app.legacy_only() RETURNS SETOF text LANGUAGE sql AS $$
  SELECT legacy_status FROM app.orders
$$;
'''


@pytest.fixture
def target(target_db):
    return target_db(SCHEMA)


def _function_names(report):
    return sorted(d.name for d in report.get_dependencies_by_type(DependencyType.FUNCTION))


def test_a_column_analysis_is_one_statement(target):
    report = DependencyAnalyzer(target).analyze_column_dependencies("orders", "status", "app")
    assert report.queries_run == 1


def test_a_unicode_escaped_identifier_is_found_by_the_parse(target):
    report = DependencyAnalyzer(target).analyze_column_dependencies("orders", "status", "app")
    assert _function_names(report) == ["close_order(p_id integer)", "escaped_status()"]


def test_a_quoted_name_with_a_doubled_quote_is_found(target):
    report = DependencyAnalyzer(target).analyze_column_dependencies("orders", 'odd"name', "app")
    assert _function_names(report) == ["odd_reader()"]


def test_a_replaced_function_is_analysed_as_it_is_now(target):
    analyzer = DependencyAnalyzer(target)
    before = analyzer.analyze_column_dependencies("orders", "status", "app")
    assert "close_order(p_id integer)" in _function_names(before)
    with target.connect(autocommit=True) as conn:
        conn.execute("""CREATE OR REPLACE FUNCTION app.close_order(p_id int) RETURNS void LANGUAGE plpgsql AS $$
                        BEGIN
                          UPDATE app.orders SET legacy_status = 'closed' WHERE id = p_id;
                        END $$""")
    after = analyzer.analyze_column_dependencies("orders", "status", "app")
    assert "close_order(p_id integer)" not in _function_names(after)
    legacy = analyzer.analyze_column_dependencies("orders", "legacy_status", "app")
    close = next(d for d in legacy.dependencies if d.name == "close_order(p_id integer)")
    assert close.line == 3 and close.impact is ImpactLevel.HIGH


def test_a_missing_column_is_still_an_error_not_a_table_report(target):
    from migrations_app.engines.dependencies import ObjectNotFoundError

    with pytest.raises(ObjectNotFoundError, match="column nope does not exist"):
        DependencyAnalyzer(target).analyze_column_dependencies("orders", "nope", "app")


def test_the_pre_test_accepts_whole_identifiers_only():
    assert may_mention("UPDATE t SET STATUS = 1", "status")
    assert may_mention('SELECT "status" FROM t', "status")
    assert may_mention("SELECT t.status, 1", "status")
    assert not may_mention("SELECT legacy_status, status_code, x$status FROM t", "status")
    assert not may_mention("SELECT éstatus FROM t", "status")


def test_the_pre_test_keeps_escaped_and_doubled_spellings():
    assert may_mention('SELECT U&"st\\0061tus" FROM t', "status")
    assert may_mention('SELECT "odd""name" FROM t', 'odd"name')
    assert may_mention("EXECUTE 'SELECT it''s FROM t'", "it's")


def test_a_body_is_parsed_once_and_the_parse_is_reused():
    PARSE_CACHE.clear()
    body = "SELECT status FROM app.orders"
    first = parsed_fragments("sql", body)
    second = parsed_fragments("sql", body)
    assert first is second
    assert (PARSE_CACHE.hits, PARSE_CACHE.misses) == (1, 1)
    changed = parsed_fragments("sql", body + " WHERE id = 1")
    assert changed is not first and PARSE_CACHE.misses == 2


def test_a_body_that_does_not_parse_keeps_failing_from_the_cache():
    PARSE_CACHE.clear()
    body = "BEGIN oops; END"
    for _ in range(2):
        with pytest.raises(BodyParseError):
            parsed_fragments("plpgsql", body, "", "void", False)
    assert PARSE_CACHE.hits == 1


def test_the_cache_stays_within_its_budget():
    PARSE_CACHE.clear()
    budget = PARSE_CACHE.budget
    try:
        PARSE_CACHE.budget = 100
        for i in range(10):
            parsed_fragments("sql", f"SELECT status, {i} FROM app.orders -- {'x' * 20}")
        assert PARSE_CACHE.used <= 100 and len(PARSE_CACHE.entries) < 10
    finally:
        PARSE_CACHE.budget = budget
        PARSE_CACHE.clear()


def test_catalog_queries_are_converted_once_to_numbered_parameters():
    from migrations_app.engines.catalog import query
    from migrations_app.engines.dependencies.catalog import positional_query

    text, order = positional_query("dep_analysis")
    assert order == ("column", "schema", "table")
    assert b"%(" not in text and b"$3" in text and b"$4" not in text
    assert text.count(b"%") == query("dep_analysis").count("%%")  # each %% became one literal %
    assert positional_query("dep_analysis") is positional_query("dep_analysis")


def test_a_missing_query_parameter_is_a_clear_analysis_error(target):
    from migrations_app.engines.dependencies import DependencyAnalysisError
    from migrations_app.engines.dependencies.catalog import catalog_session

    with target.connect() as conn, catalog_session(conn, DependencyAnalysisError) as session:
        with pytest.raises(DependencyAnalysisError, match="needs parameter 'column'"):
            session.fetch("dep_analysis", {"schema": "app", "table": "orders"})
