"""The DBA's day on the demo, in headless chromium, asserting what each page says: author a plan from
SQL on demo_shop, analyse, read the finding, copy the mitigation that replaces the statement,
re-analyse, make a staging copy, rehearse, get the sign-offs the gate asks for, execute (typing the
target's name where the page asks), see SUCCEEDED and the schema diff, roll back, see the rollback
verified and the alert it produced."""

import re

import pytest

from migrations_app.models import PlanStatus
from tests.browser.conftest import fill_sql
from tests.browser.journeys.conftest import SLOW, login_as, shot, step_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCRIPT = ("CREATE INDEX orders_shipped_at_idx ON orders (shipped_at);\n"
          "UPDATE customers SET status = 'closed' WHERE status = 'suspended';")


def gate(page) -> str:
    return page.inner_text("#gate")


def test_the_dba_takes_a_plan_from_sql_to_a_verified_rollback(demo, browser_page, live_server):
    page = browser_page
    login_as(page, live_server, "dba")

    # Author the plan from SQL.
    page.click("text=Plans")
    page.click("text=New plan")
    page.fill("input[name=title]", "Index orders by date, retire suspended customers")
    page.select_option("select[name=target]", str(demo.target.pk))
    fill_sql(page, SCRIPT)
    page.click("button:has-text('Create plan')")
    page.wait_for_selector("h1:has-text('Index orders by date')")
    plan = demo.plan("Index orders by date, retire suspended customers")
    ops = page.inner_text("#operations")
    assert "CREATE_INDEX on public.orders" in ops and "UPDATE on public.customers" in ops, ops
    assert "What is missing: Analysis of the current SQL." in gate(page)

    # Analyse and read the finding.
    page.click("button:has-text('Analyse')")
    page.wait_for_selector("#analysis-status :text('Done')", timeout=SLOW)
    ops = page.inner_text("#operations")
    assert "require-concurrent-index-creation" in ops, ops
    shot(page, "dba-01-analysed-finding")

    # The mitigation replaces the statement it fixes (never both).
    page.click(".tabs >> text=Mitigation")
    page.wait_for_selector("#mitigation")
    step = page.locator("#mitigation .step", has_text="CREATE INDEX CONCURRENTLY")
    assert step.count() == 1, page.inner_text("#mitigation")
    step.scroll_into_view_if_needed()
    shot(page, "dba-02-mitigation")
    step.locator("button:has-text('Replace the statement')").click()
    page.wait_for_selector("text=Review, then analyse again.")
    sqls = [op.sql for op in plan.operations.order_by("position")]
    assert sqls == ["CREATE INDEX CONCURRENTLY orders_shipped_at_idx ON orders (shipped_at)",
                    "UPDATE customers SET status = 'closed' WHERE status = 'suspended'"], sqls
    page.click("button:has-text('Analyse')")
    page.wait_for_selector("#analysis-status :text('Done')", timeout=SLOW)
    assert "require-concurrent-index-creation" not in page.inner_text("#operations")
    plan.refresh_from_db()
    text = gate(page)
    assert f"Sign-off gate for {plan.risk_level}" in text, text

    # A staging copy, then the rehearsal (the copy's page leads back to the plan).
    if "Passed staging validation" in text or plan.risk_level in ("HIGH", "CRITICAL"):
        assert "Rehearse on a staging copy" in text
    page.click("#plan-rehearsals >> text=Create one")
    page.wait_for_selector("h1:has-text('New staging copy')")
    page.click("button:has-text('Create and copy')")
    page.wait_for_selector("#open-plans", timeout=SLOW)
    assert "READY" in page.inner_text("main")
    page.locator("#open-plans").scroll_into_view_if_needed()
    shot(page, "dba-03-staging-copy")
    page.click(f"#open-plans >> text={plan.title}")
    page.click("#plan-rehearsals button:has-text('Rehearse on staging')")
    page.wait_for_selector("#plan-rehearsals :text('PASSED'), #plan-rehearsals :text('FAILED')", timeout=SLOW)
    panel = page.inner_text("#plan-rehearsals")
    assert re.search(r"Rehearsal #\d+ PASSED", panel), panel
    page.click("#plan-rehearsals a[href*='/staging/rehearsals/']")
    page.wait_for_selector("h1")
    rehearsal = page.inner_text("main")
    assert "CREATE INDEX CONCURRENTLY orders_shipped_at_idx" in rehearsal
    assert re.search(r"Rollback: schema VERIFIED", rehearsal, re.I), rehearsal[:3000]
    shot(page, "dba-04-rehearsal")

    # The sign-offs the gate names, by the roles it names.
    page.goto(f"{live_server.url}/plans/{plan.pk}/")
    text = gate(page)
    missing = text.split("What is missing:")[1] if "What is missing:" in text else ""
    if "Approval by a manager" in missing:
        login_as(page, live_server, "manager")
        signer = "manager"
    else:
        assert "Review sign-off by a DBA other than the author" in missing or not missing, text
        login_as(page, live_server, "dba2")
        signer = "dba2"
    if missing:
        page.goto(f"{live_server.url}/plans/queue/")
        page.click(f"text={plan.title}")
        page.wait_for_selector("form.signoff")
        page.fill("form.signoff textarea[name=comment]", "Rehearsed; fine.")
        step_up(page, signer, "form.signoff")
        page.locator("form.signoff button.primary").first.click()
        page.wait_for_selector("text=Recorded:")
    assert "Every requirement of this risk level is met." in gate(page), gate(page)
    shot(page, "dba-05-gate-met")

    # Execute on production: the page asks for the target's name (the plan changes data).
    login_as(page, live_server, "dba")
    page.goto(f"{live_server.url}/plans/{plan.pk}/")
    page.click("a:has-text('Execute…')")
    page.wait_for_selector("button:has-text('Execute now')")
    confirm = page.inner_text("main")
    assert "This plan changes data on the production target. Type demo_shop to confirm" in confirm
    assert "Backed up before it changes" in confirm and "public.customers" in confirm
    page.fill("input[name=confirm_target_name]", "demo-shop")  # a typo is refused, saying why
    step_up(page, "dba", "form")
    page.click("button:has-text('Execute now')")
    page.wait_for_selector(".msg.error, .error")
    assert "demo_shop" in page.inner_text("main")
    page.fill("input[name=confirm_target_name]", "demo_shop")
    step_up(page, "dba", "form")
    shot(page, "dba-06-execute-confirmation")
    page.click("button:has-text('Execute now')")
    page.wait_for_selector(".pill.SUCCEEDED", timeout=SLOW)
    execution = page.inner_text("main")
    assert "Schema diff" in execution and "orders_shipped_at_idx" in execution, execution[:3000]
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUCCEEDED
    shot(page, "dba-07-executed-schema-diff")

    # Roll back: the confirmation shows what is restored; the result is verified.
    page.click("a:has-text('Roll back…')")
    page.wait_for_selector("button:has-text('Roll back now')")
    assert "Fully reversible" in page.inner_text("main")
    step_up(page, "dba", "form")
    page.click("button:has-text('Roll back now')")
    page.wait_for_selector("text=Rollback verification", timeout=SLOW)
    verification = page.inner_text("main")
    assert "✔ Schema verified" in verification and "✔ Data verified" in verification, verification[:3000]
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ROLLED_BACK
    with demo.connection.connect() as conn:
        assert conn.execute("SELECT to_regclass('public.orders_shipped_at_idx')").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM customers WHERE status = 'suspended'").fetchone() == (1000,)
    shot(page, "dba-08-rollback-verified")

    # What the rollback produced: a verified rollback is an INFO alert, not an incident.
    page.goto(f"{live_server.url}/alerts/")
    page.wait_for_selector("h1")
    alerts = page.inner_text("main")
    assert f"Rollback succeeded: {plan.title}" in alerts, alerts[:2000]
    assert f"Migration succeeded: {plan.title}" in alerts
    shot(page, "dba-09-alerts")
