"""The demo's "Reset order history" (TRUNCATE public.orders CASCADE) reaches the end: the finding names
every table the CASCADE empties, following foreign keys recursively (payments reference invoices,
which reference orders), and the rewrite it offers truncates them all by name, which PostgreSQL runs
(a TRUNCATE of orders alone is refused: other tables reference it)."""

from pathlib import Path

import pytest

from migrations_app.engines.plan_analysis import analyze_plan

DEMO_DIR = Path(__file__).resolve().parents[2] / "migrations_app/demo"


@pytest.fixture
def demo(target_db):
    return target_db((DEMO_DIR / "demo_shop_schema.sql").read_text())


def _finding(report, rule):
    return next(f for s in report["statements"] for f in s["findings"] if f["rule"] == rule)


def test_truncate_cascade_names_the_whole_chain_and_its_rewrite_runs(demo):
    report = analyze_plan("TRUNCATE public.orders CASCADE", demo, "public").to_dict()
    finding = _finding(report, "ban-truncate-cascade")

    assert finding["message"] == ("TRUNCATE public.orders CASCADE; it would also empty billing.invoices, "
                                  "billing.payments, public.order_items")
    assert finding["safe_sql"] == "TRUNCATE public.orders, billing.invoices, billing.payments, public.order_items;"
    with demo.connect() as conn:
        conn.execute("INSERT INTO customers (email, full_name, country_code, status) VALUES ('a@b.c', 'A', 'DE', 'active')")
        conn.execute("INSERT INTO orders (customer_id, status, total_cents) SELECT id, 'new', 0 FROM customers")
        conn.execute("INSERT INTO categories (name, slug) VALUES ('c', 'c')")
        conn.execute("INSERT INTO products (category_id, sku, name, price_cents) SELECT id, 's', 'p', 1 FROM categories")
        conn.execute("INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_cents) "
                     "SELECT o.id, 1, p.id, 1, 1 FROM orders o, products p")
        conn.execute("INSERT INTO billing.invoices (order_id, customer_id, amount_cents, tax_cents) "
                     "SELECT id, customer_id, 1, 0 FROM orders")
        conn.execute("INSERT INTO billing.payments (invoice_id, amount_cents, method) SELECT id, 1, 'card' FROM billing.invoices")
        with pytest.raises(Exception, match="cannot truncate a table referenced in a foreign key constraint"):
            with conn.transaction():
                conn.execute("TRUNCATE public.orders")
        conn.execute(finding["safe_sql"])
        counts = conn.execute("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_items), "
                              "(SELECT count(*) FROM billing.invoices), (SELECT count(*) FROM billing.payments), "
                              "(SELECT count(*) FROM customers)").fetchone()
    assert counts == (0, 0, 0, 0, 1)
