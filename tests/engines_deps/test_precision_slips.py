"""Labels and lists that used to say more than what happens: the FK analyzer's cascade tables for
DROP COLUMN, a policy on another table, the NOT NULL row's name."""

import pytest

from migrations_app.engines.dependencies import DependencyAnalyzer, DependencyType, ForeignKeyAnalyzer, ImpactLevel

SCHEMA = """
CREATE TABLE customers (id int PRIMARY KEY, code int UNIQUE, full_name text NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers (id), status text);
CREATE TABLE lines (id int PRIMARY KEY, order_id int REFERENCES orders (id));
CREATE TABLE vouchers (id int PRIMARY KEY, customer_code int REFERENCES customers (code));
ALTER TABLE lines ENABLE ROW LEVEL SECURITY;
CREATE POLICY open_lines ON lines USING (EXISTS (SELECT 1 FROM orders o WHERE o.id = order_id AND o.status = 'open'));
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_orders ON orders USING (status <> 'hidden');
"""


@pytest.fixture
def target(target_db):
    return target_db(SCHEMA)


def test_drop_cascade_tables_are_only_those_whose_keys_reference_what_goes(target):
    report = ForeignKeyAnalyzer(target).analyze_foreign_key_impact("customers", "DROP_COLUMN", column="code")
    assert report.cascade_tables == ["public.vouchers"]
    table = ForeignKeyAnalyzer(target).analyze_foreign_key_impact("customers", "DROP_TABLE")
    assert table.cascade_tables == ["public.orders", "public.vouchers"]  # lines keeps its key to orders
    truncate = ForeignKeyAnalyzer(target).analyze_foreign_key_impact("customers", "TRUNCATE_TABLE")
    assert truncate.cascade_tables == ["public.lines", "public.orders", "public.vouchers"]


def test_a_policy_on_another_table_is_not_labelled_as_belonging_to_the_dropped_table(target):
    report = DependencyAnalyzer(target).analyze_table_dependencies("orders")
    policies = {d.name: d for d in report.get_dependencies_by_type(DependencyType.POLICY)}
    assert policies["open_lines"].impact is ImpactLevel.CRITICAL and "belongs" not in policies["open_lines"].reason
    assert policies["own_orders"].impact is ImpactLevel.INFORMATIONAL and "belongs" in policies["own_orders"].reason


def test_the_not_null_row_names_its_table_and_column(target):
    report = DependencyAnalyzer(target).analyze_column_dependencies("customers", "full_name")
    [not_null] = report.get_dependencies_by_type(DependencyType.NOT_NULL)
    assert not_null.qualified_name == "public.customers.full_name NOT NULL"
