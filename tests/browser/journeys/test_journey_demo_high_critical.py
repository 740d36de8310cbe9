"""Every demo plan of risk HIGH or CRITICAL reaches SUCCEEDED by following only what its pages say:
the gate's "What is missing" line, the findings, the Mitigation tab (copy the SQL it offers), the
"Create one" link to a staging copy, Rehearse on staging, the manager's approval (with the
authenticator code the form asks for) and Execute… (typing the target's name where the confirmation
asks for it). The CRITICAL plan drops to HIGH once its CASCADE is replaced, so its gate no longer
asks for the checklist (the DBA journey does not need it either; the walkthrough tests cover it)."""

import re

import pytest

from migrations_app.models import PlanStatus
from tests.browser.journeys.conftest import SLOW, login_as, shot, step_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def gate(page) -> str:
    return page.inner_text("#gate")


def open_plan(page, live_server, plan):
    page.goto(f"{live_server.url}/plans/{plan.pk}/")
    page.wait_for_selector("#gate")


def analyse(page):
    page.click("button:has-text('Analyse')")
    page.wait_for_selector("#analysis-status :text('Done')", timeout=SLOW)


def mitigation(page) -> str:
    page.click(".tabs >> text=Mitigation")
    page.wait_for_selector("#mitigation")
    return page.inner_text("#mitigation")


def copy_step(page, name: str) -> str:
    """Click the step's one button (copy, or replace the statement it fixes); returns the message."""
    step = page.locator("#mitigation .step", has_text=name)
    step.locator("form button").click()
    page.wait_for_selector("text=then analyse again")  # every copy says what to do next
    return page.inner_text("main")


def follow_rehearsal(page, live_server, plan, *, first: bool) -> str:
    """The gate's link leads to the rehearsal card; without a copy it says "Create one"."""
    panel = page.inner_text("#plan-rehearsals")
    if first:
        assert "No ready staging copy of demo_shop. Create one, then rehearse." in panel
        page.click("#plan-rehearsals >> text=Create one")
        page.wait_for_selector("h1:has-text('New staging copy')")
        page.click("button:has-text('Create and copy')")
        page.wait_for_selector("#open-plans", timeout=SLOW)
        assert "READY" in page.inner_text("main")
        page.locator("#open-plans").scroll_into_view_if_needed()
        if plan.title == "Drop customers.legacy_status":
            shot(page, "high-critical-02-staging-copy-ready")
        # the copy's page leads back to the plan that needs the rehearsal
        page.click(f"#open-plans >> text={plan.title}")
        page.wait_for_selector("#plan-rehearsals")
    assert page.locator("#plan-rehearsals input[name=measure_baselines]").is_checked()
    page.click("#plan-rehearsals button:has-text('Rehearse on staging')")
    page.wait_for_selector("#plan-rehearsals :text('PASSED'), #plan-rehearsals :text('FAILED')", timeout=SLOW)
    return page.inner_text("#plan-rehearsals")


def approve_as_manager(page, live_server, plan):
    login_as(page, live_server, "manager")
    page.goto(f"{live_server.url}/plans/queue/")
    page.click(f"text={plan.title}")
    page.wait_for_selector("form.signoff")
    assert "What is missing: Approval by a manager." in gate(page)
    page.fill("form.signoff textarea[name=comment]", "Rehearsed on staging; approved.")
    assert step_up(page, "manager", "form.signoff"), "the approval of a HIGH/CRITICAL plan asks for a code"
    page.click("form.signoff button:has-text('Approve')")
    page.wait_for_selector("text=Recorded: approve")
    assert "Every requirement of this risk level is met." in gate(page)


def execute_as_author(page, live_server, plan, *, typed: bool) -> str:
    login_as(page, live_server, plan.author.username)
    open_plan(page, live_server, plan)
    page.click("a:has-text('Execute…')")
    page.wait_for_selector("button:has-text('Execute now')")
    confirm = page.inner_text("main")
    if typed:
        assert "This plan changes data on the production target. Type demo_shop to confirm" in confirm
        page.fill("input[name=confirm_target_name]", "demo_shop")
    assert step_up(page, plan.author.username, "form"), "Execute on production asks for a code"
    page.click("button:has-text('Execute now')")
    page.wait_for_selector(".pill.SUCCEEDED, .pill.FAILED, .pill.ROLLED_BACK", timeout=SLOW)
    return page.inner_text("main")


def assert_the_demos_high_and_critical_plans(demo):
    """The two tests below cover every HIGH and CRITICAL plan of the seed: a new one fails here."""
    assert [(p.title, p.risk_level) for p in demo.plans_at("HIGH", "CRITICAL")] == [
        ("Drop customers.legacy_status", "HIGH"), ("Reset order history", "CRITICAL")]


def test_the_high_demo_plan_drop_legacy_status_reaches_succeeded(demo, browser_page, live_server):
    page = browser_page
    assert_the_demos_high_and_critical_plans(demo)
    drop = demo.plan("Drop customers.legacy_status")
    login_as(page, live_server, "dba")
    open_plan(page, live_server, drop)
    text = gate(page)
    assert "What is missing: Approval by a manager; Passed staging validation of this SQL." in text
    assert "column-has-dependents" in page.inner_text("#operations")
    shot(page, "high-critical-01-drop-column-gate")
    steps = mitigation(page)
    # the backup step needs no SQL in the plan: Execute… backs the column's values up itself
    assert "Nothing to copy: Execute… backs these rows up itself" in steps
    assert "values of public.customers.legacy_status" in steps
    assert page.locator("#mitigation .step", has_text="Back up the data").locator("form").count() == 0
    after = copy_step(page, "Change or drop each dependent object explicitly first")
    assert "4 statement(s) before the plan's and 2 after" in after
    analyse(page)
    assert "What is missing: Approval by a manager; Passed staging validation of this SQL." in gate(page)
    panel = follow_rehearsal(page, live_server, drop, first=True)
    assert re.search(r"Rehearsal #\d+ PASSED", panel), panel
    page.reload()
    assert "✔ Passed staging validation of this SQL" in gate(page)
    assert "What is missing: Approval by a manager." in gate(page)
    shot(page, "high-critical-03-drop-column-rehearsed")
    approve_as_manager(page, live_server, drop)
    result = execute_as_author(page, live_server, drop, typed=True)
    assert "Succeeded" in result or "SUCCEEDED" in result, result[:2000]
    drop.refresh_from_db()
    assert drop.status == PlanStatus.SUCCEEDED
    shot(page, "high-critical-04-drop-column-succeeded")
    with demo.connection.connect() as conn:
        views = conn.execute("SELECT table_schema || '.' || table_name FROM information_schema.views "
                             "WHERE table_schema IN ('public', 'billing') ORDER BY 1").fetchall()
        column = conn.execute("SELECT 1 FROM information_schema.columns WHERE table_name = 'customers' "
                              "AND column_name = 'legacy_status'").fetchone()
    assert [v for (v,) in views] == ["billing.open_invoices", "public.active_customers", "public.order_summaries"]
    assert column is None



def test_the_critical_demo_plan_reset_order_history_reaches_succeeded(demo, browser_page, live_server):
    page = browser_page
    assert_the_demos_high_and_critical_plans(demo)
    reset = demo.plan("Reset order history")
    login_as(page, live_server, "dba2")
    open_plan(page, live_server, reset)
    text = gate(page)
    assert ("What is missing: Approval by a manager; Full staging test: rehearsal, baselines and verified rollback "
            "of this SQL; Pre-migration checklist") in text
    findings = page.inner_text("#operations")
    assert ("TRUNCATE public.orders CASCADE; it would also empty billing.invoices, billing.payments, "
            "public.order_items") in findings
    steps = mitigation(page)
    assert "TRUNCATE public.orders, billing.invoices, billing.payments, public.order_items;" in steps
    after = copy_step(page, "Truncate the referencing tables by name")
    assert "TRUNCATE public.orders, billing.invoices, billing.payments, public.order_items" in page.inner_text("#operations")
    analyse(page)
    assert "ban-truncate-cascade" not in page.inner_text("#operations")
    # naming the tables instead of CASCADE lowers the plan to HIGH: the gate now asks for less
    text = gate(page)
    assert "Sign-off gate for HIGH" in text, text
    assert "What is missing: Approval by a manager; Passed staging validation of this SQL." in text
    panel = follow_rehearsal(page, live_server, reset, first=True)
    assert re.search(r"Rehearsal #\d+ PASSED", panel), panel
    page.reload()
    text = gate(page)
    assert "✔ Passed staging validation of this SQL" in text, text
    assert re.search(r"data verified: [\d,]+ backed-up row\(s\) in 4 table\(s\) restored", text), text
    shot(page, "high-critical-05-truncate-rehearsed")
    approve_as_manager(page, live_server, reset)
    result = execute_as_author(page, live_server, reset, typed=True)
    assert "Succeeded" in result or "SUCCEEDED" in result, result[:2000]
    shot(page, "high-critical-06-truncate-succeeded")
    reset.refresh_from_db()
    assert reset.status == PlanStatus.SUCCEEDED
    with demo.connection.connect() as conn:
        counts = conn.execute("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM billing.payments), "
                              "(SELECT count(*) FROM customers)").fetchone()
    assert counts == (0, 0, 50000)
