"""End to end in headless chromium: a DBA writes a plan from SQL on the demo schema, the analysis
runs, a manager approves the HIGH plan, and its author cannot."""

from pathlib import Path

import pytest

from migrations_app.models import MigrationPlan, SignOff
from tests.browser.conftest import fill_sql, login
from tests.factories import TargetDatabaseFactory

DEMO_SCHEMA = (Path(__file__).resolve().parents[2] / "migrations_app/demo/demo_shop_schema.sql").read_text()

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_dba_writes_a_plan_manager_approves_it_author_cannot(browser_page, live_server, target_db, django_user_model):
    from django.contrib.auth.models import Group

    conn = target_db(DEMO_SCHEMA)
    target = TargetDatabaseFactory(name="demo_shop", host=conn.host, port=conn.port, dbname=conn.dbname,
                                   user=conn.user, environment="production")
    dba = django_user_model.objects.create_user("dba", password="dba-pass-1")
    dba.groups.add(Group.objects.get_or_create(name="DBA")[0])
    manager = django_user_model.objects.create_user("manager", password="manager-pass-1")
    manager.groups.add(Group.objects.get_or_create(name="Manager")[0])
    page = browser_page

    # The DBA writes the plan from SQL.
    login(page, live_server, "dba", "dba-pass-1")
    page.click("text=Plans")
    page.click("text=New plan")
    page.fill("input[name=title]", "Drop customers.legacy_status")
    page.select_option("select[name=target]", str(target.pk))
    fill_sql(page, "ALTER TABLE customers DROP COLUMN legacy_status;")
    page.click("button:has-text('Create plan')")
    page.wait_for_selector("h1:has-text('Drop customers.legacy_status')")
    assert "DROP_COLUMN" in page.inner_text("#operations")

    # The analysis runs (django-q2 is synchronous in tests) and the review page shows it.
    page.click("button:has-text('Analyse')")
    page.wait_for_selector("#analysis-status :text('Done')")
    plan = MigrationPlan.objects.get()
    assert plan.risk_level == "HIGH", plan.risk_level
    assert "column-has-dependents" in page.inner_text("#operations")
    page.click(".tabs >> text=Dependencies")
    page.wait_for_selector("#dep-table")
    assert "active_customers" in page.inner_text("#dep-table")
    assert page.locator("#dependencies .plotly-graph-div").count() == 1

    # The author sees no sign-off buttons; a forged POST is refused.
    assert page.locator("form.signoff").count() == 0
    assert "you cannot sign it off" in page.inner_text("#gate")
    status = page.evaluate("""async (url) => {
        const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
        const body = new URLSearchParams({decision: 'approve', comment: 'mine', csrfmiddlewaretoken: token});
        return (await fetch(url, {method: 'POST', body})).status;
    }""", f"/plans/{plan.pk}/sign-off/")
    assert status == 403
    assert not SignOff.objects.exists()

    # The manager approves.
    login(page, live_server, "manager", "manager-pass-1")
    page.goto(f"{live_server.url}/plans/queue/")
    page.click("text=Drop customers.legacy_status")
    page.fill("form.signoff textarea[name=comment]", "Approved with a rehearsal first")
    page.click("form.signoff button:has-text('Approve')")
    page.wait_for_selector("text=Recorded: approve")
    assert "✔ Approval by a manager" in page.inner_text("#gate")
    record = SignOff.objects.get()
    assert (record.user.username, record.decision, record.sql_hash) == ("manager", "approve", plan.sql_hash)
