"""name-already-exists: a name the target already uses is reported at analysis time, from one
batched catalog read, not first by the rehearsal."""

import psycopg
import pytest

from migrations_app.engines.lint.name_already_exists import name_requests
from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.engines.risk import fetch_catalog_facts
from migrations_app.engines.statements import parse_script


def messages(report) -> list[str]:
    return [f.message for f in report.findings if f.rule == "name-already-exists"]


@pytest.mark.parametrize("sql, expected", [
    ("CREATE INDEX orders_pkey ON orders (code)",
     "an index named orders_pkey already exists in schema public (on table orders): the statement will fail"),
    # indexes and tables share pg_class: an index may not take a table's name
    ("CREATE INDEX customers ON orders (code)", "a table named customers already exists in schema public"),
    ("CREATE INDEX invoices ON sales.invoices (note)", "a table named invoices already exists in schema sales"),
    ("CREATE TABLE orders (id int)", "a table named orders already exists in schema public: the statement will fail"),
    ("CREATE VIEW customers AS SELECT 1 AS one", "a table named customers already exists in schema public"),
    ("CREATE OR REPLACE VIEW orders AS SELECT 1 AS one", "a table named orders already exists in schema public"),
    ("ALTER TABLE customers ADD CONSTRAINT legacy_status_known CHECK (email <> '')",
     "a check constraint named legacy_status_known already exists on table public.customers: the statement will fail"),
    # a UNIQUE constraint's index takes its name in pg_class
    ("ALTER TABLE customers ADD CONSTRAINT orders_pkey UNIQUE (email)",
     "an index named orders_pkey already exists in schema public (on table orders): the constraint's index takes"),
])
def test_a_taken_name_is_an_error_at_analysis_time(shop, sql, expected):
    report = analyze_plan(sql, shop)
    found = [f for f in report.findings if f.rule == "name-already-exists"]
    assert len(found) == 1 and found[0].severity == "error" and found[0].message.startswith(expected), found
    with shop.connect() as conn:  # and the statement does fail on the target
        with pytest.raises(psycopg.errors.DuplicateObject if "CONSTRAINT" in sql and "UNIQUE" not in sql
                           else (psycopg.errors.DuplicateTable, psycopg.errors.DuplicateObject,
                                 psycopg.errors.WrongObjectType)):
            conn.execute(sql)


@pytest.mark.parametrize("sql", [
    "CREATE INDEX IF NOT EXISTS orders_pkey ON orders (code)",
    "CREATE TABLE IF NOT EXISTS orders (id int)",
    "CREATE OR REPLACE VIEW active_customers AS SELECT id, email FROM customers",
    "CREATE INDEX orders_code_idx ON orders (code)",
    "CREATE INDEX ON orders (code)",
    # constraint names are per table: customers' check name is free on orders
    "ALTER TABLE orders ADD CONSTRAINT legacy_status_known CHECK (amount > 0)",
    # freed earlier in the plan
    "DROP INDEX orders_code_idx; ALTER TABLE orders DROP CONSTRAINT orders_pkey; CREATE UNIQUE INDEX orders_pkey ON orders (id)",
    "ALTER TABLE customers RENAME CONSTRAINT legacy_status_known TO legacy_status_old; "
    "ALTER TABLE customers ADD CONSTRAINT legacy_status_known CHECK (email <> '')",
    "DROP VIEW customer_status; CREATE VIEW customer_status AS SELECT 1 AS one",
])
def test_a_free_name_if_not_exists_or_a_name_freed_earlier_is_quiet(shop, sql):
    assert messages(analyze_plan(sql, shop)) == []


def test_without_a_database_the_rule_does_not_run():
    assert messages(analyze_plan("CREATE INDEX orders_pkey ON orders (code)")) == []


class CountingCursor(psycopg.Cursor):
    executed = 0

    def execute(self, *args, **kwargs):
        CountingCursor.executed += 1
        return super().execute(*args, **kwargs)


def test_every_name_of_the_plan_is_checked_in_one_query(shop):
    counts, taken = [], []
    for n in (1, 40):
        sql = "; ".join(f"CREATE INDEX idx_{i} ON orders (code); ALTER TABLE orders ADD CONSTRAINT c_{i} CHECK (amount > 0)"
                        for i in range(n)) + "; CREATE INDEX customers_pkey ON customers (email)"
        statements = parse_script(sql)
        CountingCursor.executed = 0
        with psycopg.connect(**shop.conninfo_kwargs(), cursor_factory=CountingCursor) as conn:
            facts = fetch_catalog_facts(conn, [("public", "orders"), ("public", "customers")],
                                        names=name_requests(statements, "public"))
        counts.append(CountingCursor.executed)
        taken.append(facts.names_taken)
    # the seven reads without names, plus one for all of them
    assert counts == [8, 8]
    assert taken[1] == {("relation", "public", "", "customers_pkey"): {"taken_by": "i", "owner_table": "customers"}}
