"""Which routine bodies are read for a column: those that can reach the table (real PostgreSQL).

A body is a candidate when it names a relation the drop reaches, or when it can use the
column without naming the table (a trigger function on it, an argument of its row type), or
when escapes could spell a name; bodies that only share the column's name with another table
are left out before they are parsed.
"""

import pytest

from migrations_app.engines.dependencies import DependencyAnalyzer, DependencyType
from migrations_app.engines.dependencies.plpgsql_refs import PARSE_CACHE, parsed_body

SCHEMA = r'''
CREATE SCHEMA app;
CREATE TABLE app.orders (id int PRIMARY KEY, status text);
CREATE TABLE app.invoices (id int PRIMARY KEY, status text);
CREATE FUNCTION app.stamp_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.status := upper(NEW.status);
  RETURN NEW;
END $$;
CREATE TRIGGER stamp BEFORE INSERT ON app.orders FOR EACH ROW EXECUTE FUNCTION app.stamp_status();
CREATE FUNCTION app.describe(o app.orders) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN o.id || ': ' || o.status;
END $$;
CREATE FUNCTION app.invoice_status(p_id int) RETURNS text LANGUAGE sql AS $$
  SELECT status FROM app.invoices WHERE id = p_id
$$;
CREATE FUNCTION app.escaped_reader() RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE E'SELECT status FROM app.\x6frders';
END $$;
'''


@pytest.fixture
def report(target_db):
    target = target_db(SCHEMA)
    PARSE_CACHE.clear()
    return DependencyAnalyzer(target).analyze_column_dependencies("orders", "status", "app")


def _routines(report):
    return sorted(d.name for d in report.get_dependencies_by_type(DependencyType.FUNCTION))


def test_a_trigger_function_that_reaches_the_column_only_through_new_is_found(report):
    assert "stamp_status()" in _routines(report)


def test_a_function_taking_the_tables_row_type_is_found_through_its_argument(report):
    assert "describe(o app.orders)" in _routines(report)


def test_a_name_spelled_with_escapes_in_dynamic_sql_is_found_by_the_parse(report):
    assert "escaped_reader()" in _routines(report)


def test_a_routine_using_a_same_named_column_of_another_table_is_neither_reported_nor_parsed(report):
    assert "invoice_status(p_id integer)" not in _routines(report)
    assert not any("app.invoices" in key[1] for key in PARSE_CACHE.entries)


def test_a_parsed_body_knows_every_relation_name_it_can_reach():
    parsed = parsed_body("plpgsql", """
DECLARE
  r app.orders%ROWTYPE;
BEGIN
  SELECT * INTO r FROM app.invoices i WHERE i.id = 1;
  PERFORM app.customers.name;
  EXECUTE 'DELETE FROM app.archive';
END""", "", "void", False)
    assert {"orders", "invoices", "customers", "archive"} <= parsed.names
    assert not parsed.has_unparsed_pieces


def test_a_string_run_by_return_query_execute_is_read_as_a_statement():
    parsed = parsed_body("plpgsql", "BEGIN\n  RETURN QUERY EXECUTE 'SELECT status FROM app.orders';\nEND",
                         "", "SETOF text", False)
    assert "orders" in parsed.names
    assert [f.line for f in parsed.fragments if f.dynamic] == [2]
