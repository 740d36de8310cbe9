"""The SQL editor in headless chromium, under the strict Content-Security-Policy: on the new-plan
form a DBA types, asks for completion (Ctrl-Space), picks a table and a column of the chosen
target from the list, and the plan holds that SQL; the list follows the target <select> and says
quietly when a target cannot be read; the operation editors (swapped in by htmx) and the
replace-SQL page carry the editor too, and what is typed there is what is saved."""

from __future__ import annotations

import os

import pytest

from migrations_app.models import MigrationPlan
from tests.browser.conftest import fill_sql, login
from tests.browser.test_csp_browser import Console
from tests.factories import MigrationPlanFactory, TargetDatabaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, email text, created_at timestamptz);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, total numeric);
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id int, customer_id bigint, amount numeric);
CREATE TABLE billing."LateFees" (id int, "Amount" numeric);
CREATE VIEW customer_emails AS SELECT id, email FROM customers;
"""


@pytest.fixture
def shop(target_db):
    conn = target_db(SCHEMA)
    return TargetDatabaseFactory(name="shop", host=conn.host, port=conn.port, dbname=conn.dbname, user=conn.user)


def _status(page) -> str:
    return page.inner_text(".sql-editor-status")


def _hints(page) -> list[str]:
    page.wait_for_selector(".CodeMirror-hints li")
    return [text.strip() for text in page.locator(".CodeMirror-hints li").all_inner_texts()]


def _field(page, selector="textarea[name=sql]") -> str:
    return page.eval_on_selector(selector, "el => el.value")


def test_a_dba_completes_a_table_and_a_column_of_the_target_and_the_plan_holds_the_sql(
        browser_page, live_server, shop, dba):
    gone = TargetDatabaseFactory(name="gone", host="127.0.0.1", port=9)
    page = browser_page
    console = Console(page)
    login(page, live_server, dba.username, "pw-" + dba.username)
    page.goto(f"{live_server.url}/plans/new/")
    page.wait_for_selector(".CodeMirror.sql-editor")
    assert page.is_hidden("textarea[name=sql]")  # the editor stands in for the field
    assert "choose a target" in _status(page)

    # a target that cannot be read: keywords only, said under the editor, nothing in the way
    page.select_option("select[name=target]", str(gone.pk))
    page.wait_for_function("() => document.querySelector('.sql-editor-status').textContent.includes('keywords only')")
    assert "cannot connect to postgres@127.0.0.1:9/postgres" in _status(page)

    # the chosen target's tables
    page.select_option("select[name=target]", str(shop.pk))
    page.wait_for_function("() => document.querySelector('.sql-editor-status').textContent.includes('tables and views of shop')")
    assert "5 tables and views" in _status(page)

    page.fill("input[name=title]", "Customers without an email")
    page.click(".CodeMirror.sql-editor .CodeMirror-lines")
    page.keyboard.type("SELECT * FROM cust")
    page.keyboard.press("Control+Space")
    offered = _hints(page)
    assert "customers" in offered and "customer_emails · view" in offered
    assert not any(o.startswith("orders") for o in offered)  # only names that start with what was typed
    if os.environ.get("SQL_EDITOR_SCREENSHOT"):
        page.screenshot(path=os.environ["SQL_EDITOR_SCREENSHOT"])  # docs/screenshots/16-sql-editor.png
    page.click(".CodeMirror-hints li:text-is('customers')")
    assert _field(page) == "SELECT * FROM customers"
    page.wait_for_selector(".CodeMirror-hints", state="detached")
    page.wait_for_selector(".CodeMirror.sql-editor.CodeMirror-focused")  # the list gives the focus back

    # columns of a table after its name and a dot; a qualified name of another schema
    page.keyboard.type(" WHERE customers.em")
    page.keyboard.press("Control+Space")
    assert _hints(page) == ["customers.email"]  # the only match is inserted from the list
    page.keyboard.press("Enter")
    page.keyboard.type(" IS NULL AND customer_id IN (SELECT customer_id FROM billing.inv")
    page.keyboard.press("Control+Space")
    assert _hints(page) == ["billing.invoices"]
    page.keyboard.press("Enter")
    page.keyboard.type(")")
    sql = "SELECT * FROM customers WHERE customers.email IS NULL AND customer_id IN (SELECT customer_id FROM billing.invoices)"
    assert _field(page) == sql

    page.click("button:has-text('Create plan')")
    page.wait_for_selector("h1:has-text('Customers without an email')")
    plan = MigrationPlan.objects.get(title="Customers without an email")
    assert plan.target_id == shop.pk
    assert [op.sql for op in plan.operations.all()] == [sql]
    assert console.problems == []


def test_the_operation_editors_and_the_replace_sql_page_edit_through_the_editor(browser_page, live_server, shop, dba):
    plan = MigrationPlanFactory(author=dba, target=shop, title="Orders note", schema="public",
                                sql="ALTER TABLE orders ADD COLUMN note text;")
    page = browser_page
    console = Console(page)
    login(page, live_server, dba.username, "pw-" + dba.username)
    page.goto(f"{live_server.url}{plan.get_absolute_url()}")

    # the add-operation form: two editors (SQL and rollback), completion of the plan's target
    page.wait_for_selector("#operations form .CodeMirror.sql-editor")
    assert page.locator("#operations form .CodeMirror.sql-editor").count() == 2
    page.wait_for_function("() => document.querySelector('#operations .sql-editor-status').textContent.includes('of shop')")

    # edit the operation: the form arrives by htmx and gets its editors
    page.click("#operations a:text-is('edit')")
    page.wait_for_selector("tr.editing .CodeMirror.sql-editor")
    editor = "tr.editing .CodeMirror.sql-editor >> nth=0"
    page.click(f"{editor} >> .CodeMirror-lines")
    page.keyboard.press("Control+End")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.type("varchar(200)")
    page.click("tr.editing button:has-text('Save operation')")
    page.wait_for_selector("tr.editing", state="detached")
    page.wait_for_load_state("networkidle")
    assert [op.sql for op in plan.operations.all()] == ["ALTER TABLE orders ADD COLUMN note varchar(200)"]

    # add an operation through the (htmx) add form, completing a column of the target
    page.click("#operations form .CodeMirror.sql-editor >> nth=0 >> .CodeMirror-lines")
    page.keyboard.type("SELECT orders.cu")
    page.keyboard.press("Control+Space")
    assert _hints(page) == ["orders.customer_id"]
    page.keyboard.press("Escape")
    # a name that needs quotes is found by its first letters and inserted quoted
    page.keyboard.type(" FROM billing.La")
    page.keyboard.press("Control+Space")
    assert _hints(page) == ['billing."LateFees"']
    page.keyboard.press("Enter")
    assert _field(page, "#operations form textarea[name=sql]") == 'SELECT orders.cu FROM billing."LateFees"'
    fill_sql(page, "CREATE INDEX orders_customer ON orders (customer_id)", within="#operations form")
    page.click("#operations form button:has-text('Add operation')")
    page.wait_for_function("() => document.querySelector('#operations table.ops tbody').textContent.includes('orders_customer')")
    # a second htmx action on the same tab still finds its target (#tab-body is answered whole)
    page.click("#operations button:has-text('down') >> nth=0")
    page.wait_for_function("() => document.querySelector('#operations table.ops tbody tr').textContent.includes('orders_customer')")
    assert [op.sql for op in plan.operations.all()] == ["CREATE INDEX orders_customer ON orders (customer_id)",
                                                        "ALTER TABLE orders ADD COLUMN note varchar(200)"]

    # the replace-SQL page
    page.goto(f"{live_server.url}/plans/{plan.pk}/sql/")
    page.wait_for_selector(".CodeMirror.sql-editor")
    page.wait_for_function("() => document.querySelector('.sql-editor-status').textContent.includes('of shop')")
    fill_sql(page, "ALTER TABLE customers ADD COLUMN nickname text;")
    page.click("button:has-text('Replace operations')")
    page.wait_for_selector("h1:has-text('Orders note')")
    assert [op.sql for op in plan.operations.all()] == ["ALTER TABLE customers ADD COLUMN nickname text"]
    assert console.problems == []


def test_without_javascript_the_plain_textarea_is_the_form(browser_page, live_server, shop, dba):
    context = browser_page.context.browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, live_server, dba.username, "pw-" + dba.username)
        page.goto(f"{live_server.url}/plans/new/")
        assert page.locator(".CodeMirror").count() == 0
        page.fill("input[name=title]", "No script")
        page.select_option("select[name=target]", str(shop.pk))
        page.fill("textarea[name=sql]", "ALTER TABLE orders ADD COLUMN paid boolean;")
        page.click("button:has-text('Create plan')")
        page.wait_for_selector("h1:has-text('No script')")
        assert [op.sql for op in MigrationPlan.objects.get(title="No script").operations.all()] == [
            "ALTER TABLE orders ADD COLUMN paid boolean"]
    finally:
        context.close()
