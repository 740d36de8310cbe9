"""Two DBAs at once, in two browsers (two chromium contexts) on the seeded demo.

DBA A (``dba``) has a plan of DBA B (``dba2``) open while B edits its SQL and analyses it again:
A's sign-off from the stale page is refused with a message saying the plan changed, and so is A's
Execute from a confirmation page that showed the SQL before B's edit (the LOW plan was approved
again by its new analysis: without the version the page showed, A would have run SQL A never read).
Then A executes for real while a session on demo_shop holds a lock the migration waits for, and
B's Execute of another plan on the same schema is refused at once, naming A's run; when A's run
has finished, B's runs.
"""

from __future__ import annotations

import threading
import time

import pytest

from migrations_app.models import Execution, PlanStatus, SignOff
from tests.browser.conftest import CHROMIUM_ARGS, fill_sql  # noqa: F401  (CHROMIUM_ARGS: same browser)
from tests.browser.journeys.conftest import login_as, shot, step_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MEDIUM = "Clear the bronze legacy status"
GIFT = "Add a gift note to orders"
LOYALTY = "Add a loyalty tier to customers"
STALE = "This page showed an earlier version of the plan: its SQL, rollback SQL, target or analysis changed since."


@pytest.fixture
def two_dbas(demo, settings):
    from migrations_app import workflow
    from migrations_app.plan_sql import script_to_operations
    from migrations_app.tasks import run_plan_analysis

    settings.DATAFLOW_EXEC_LOCK_TIMEOUT_MS = 500  # A's run waits on the blocker in short tries ...
    settings.DATAFLOW_EXEC_MAX_ATTEMPTS = 60      # ... for as long as the test holds it
    plans = {}
    for author, title, script in (("dba2", GIFT, "ALTER TABLE orders ADD COLUMN gift_note text"),
                                  ("dba", LOYALTY, "ALTER TABLE customers ADD COLUMN loyalty_tier text")):
        plan = workflow.create_plan(demo.users[author], target=demo.target, title=title, description="",
                                    operations=script_to_operations(script, "public", demo.target))
        run_plan_analysis(workflow.request_analysis(plan, demo.users[author]).pk)
        plan.refresh_from_db()
        assert (plan.risk_level, plan.status) == ("LOW", PlanStatus.APPROVED), (plan.risk_level, plan.status)
        plans[title] = plan
    return demo, plans


def _message(page) -> str:
    page.wait_for_selector("ul.messages")
    return page.inner_text("ul.messages")


def _columns(demo, table: str) -> set[str]:
    with demo.connection.connect() as conn:
        return {row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s",
            [table])}


def test_two_dbas_on_the_same_plan_and_the_same_schema(browser_page, live_server, two_dbas):
    demo, plans = two_dbas
    base = live_server.url
    medium, gift, loyalty = demo.plan(MEDIUM), plans[GIFT], plans[LOYALTY]
    started = time.monotonic()
    a = browser_page
    context_b = a.context.browser.new_context(viewport={"width": 1400, "height": 900})
    b = context_b.new_page()
    b.set_default_timeout(20_000)
    try:
        login_as(a, live_server, "dba")
        login_as(b, live_server, "dba2")

        # A reads B's MEDIUM plan and is about to mark it reviewed.
        a.goto(f"{base}/plans/{medium.pk}/")
        assert a.locator("form.signoff button").all_inner_texts() == ["Mark reviewed", "Reject"]
        assert "legacy_status = 'bronze'" in a.inner_text("#operations")

        # Meanwhile B replaces the SQL and analyses it again.
        b.goto(f"{base}/plans/{medium.pk}/")
        b.click("a:text-is('Replace SQL')")
        fill_sql(b, "UPDATE customers SET legacy_status = NULL WHERE legacy_status IN ('bronze', 'tin')")
        b.click("button:has-text('Replace operations')")
        assert "SQL replaced: 1 operations. Sign-offs were voided; analyse again." in _message(b)
        b.click("button:has-text('Analyse again'), button:text-is('Analyse')")
        b.wait_for_selector("#analysis-status :text('Done')")
        medium.refresh_from_db()
        assert (medium.status, medium.risk_level) == (PlanStatus.IN_REVIEW, "MEDIUM")
        shot(b, "second-dba-01-b-replaced-sql")

        # A's review from the page that showed the old SQL: refused, and said why.
        a.fill("form.signoff textarea[name=comment]", "Looks fine")
        a.click("form.signoff button:has-text('Mark reviewed')")
        message = _message(a)
        assert STALE in message and "Nothing was recorded." in message, message
        assert not SignOff.objects.filter(plan=medium).exists()
        shot(a, "second-dba-02-a-stale-review-refused")
        # The current page shows B's SQL. B edits once more and has not analysed yet (the plan is a
        # draft again): A's review from the page before that edit says first that the plan changed.
        a.goto(f"{base}/plans/{medium.pk}/")
        assert "'tin'" in a.inner_text("#operations")
        b.goto(f"{base}/plans/{medium.pk}/sql/")
        fill_sql(b, "UPDATE customers SET legacy_status = NULL WHERE legacy_status IN ('bronze', 'tin', 'wood')")
        b.click("button:has-text('Replace operations')")
        assert "SQL replaced" in _message(b)
        a.click("form.signoff button:has-text('Mark reviewed')")
        message = _message(a)
        assert STALE in message and "Now: a plan that is draft cannot be signed off." in message, message
        assert not SignOff.objects.filter(plan=medium).exists()
        b.click("button:has-text('Analyse again'), button:text-is('Analyse')")
        b.wait_for_selector("#analysis-status :text('Done')")
        a.goto(f"{base}/plans/{medium.pk}/")
        assert "'wood'" in a.inner_text("#operations")
        a.click("form.signoff button:has-text('Mark reviewed')")
        assert "Recorded: reviewed. The plan is approved." in _message(a)

        # A opens the Execute confirmation of B's LOW plan; B edits and re-analyses it meanwhile:
        # the new analysis approves the new SQL at once (LOW needs no sign-off).
        a.goto(f"{base}/plans/{gift.pk}/execute/")
        assert "ADD COLUMN gift_note text" in a.inner_text("ol.ops")
        b.goto(f"{base}/plans/{gift.pk}/sql/")
        fill_sql(b, "ALTER TABLE orders ADD COLUMN gift_note varchar(200)")
        b.click("button:has-text('Replace operations')")
        b.click("button:has-text('Analyse again'), button:text-is('Analyse')")
        b.wait_for_selector("#analysis-status :text('Done')")
        gift.refresh_from_db()
        assert gift.status == PlanStatus.APPROVED
        step_up(a, "dba", "form")
        a.click("button:has-text('Execute now')")
        message = _message(a)
        assert "This page showed an earlier version of the plan" in message and "Nothing was run." in message, message
        assert not Execution.objects.filter(plan=gift).exists()
        assert "gift_note" not in _columns(demo, "orders")
        shot(a, "second-dba-03-a-stale-execute-refused")

        # A executes the current version while an application session holds a lock on orders:
        # the run waits on it (lock_timeout, retried) and holds the schema's migration lock.
        blocker = demo.connection.connect()  # a transaction opens with the first statement and stays open
        blocker.execute("LOCK TABLE public.orders IN ACCESS SHARE MODE")
        try:
            a.goto(f"{base}/plans/{gift.pk}/execute/")
            assert "gift_note varchar(200)" in a.inner_text("ol.ops")
            step_up(a, "dba", "form")
            a.click("button:has-text('Execute now')", no_wait_after=True)  # the run answers when it ends
            deadline = time.monotonic() + 15
            while not Execution.objects.filter(plan=gift, status=Execution.Status.RUNNING).exists():
                assert time.monotonic() < deadline, "A's execution never started"
                time.sleep(0.1)
            running = Execution.objects.get(plan=gift)

            # B executes another plan on the same schema: refused at once, naming A's run.
            b.goto(f"{base}/plans/{loyalty.pk}/execute/")
            refusal = b.inner_text(".msg.error")
            assert f"migration #{running.pk} of \u201c{GIFT}\u201d by dba is running on demo_shop, schema public" \
                in refusal, refusal
            assert b.locator("button:has-text('Execute now')").is_disabled()
            shot(b, "second-dba-04-b-schema-busy")
            forged = b.evaluate("""async (url) => {
                const form = document.querySelector('form.form-actions');
                const response = await fetch(url, {method: 'POST', body: new URLSearchParams(new FormData(form))});
                return {status: response.status, text: await response.text()};
            }""", f"/plans/{loyalty.pk}/execute/")
            assert forged["status"] == 200 and "one migration per schema at a time" in forged["text"]
            assert not Execution.objects.filter(plan=loyalty).exists()
            loyalty.refresh_from_db()
            assert loyalty.status == PlanStatus.APPROVED
        finally:
            blocker.rollback()
            blocker.close()

        # A's run finishes once the lock is free; then B's plan runs.
        a.wait_for_url(f"**/executions/{running.pk}/", timeout=60_000)  # the POST ran it (django-q2 sync)
        assert "Status SUCCEEDED" in a.inner_text("main")
        running.refresh_from_db()
        assert running.status == Execution.Status.SUCCEEDED, running.error
        assert "gift_note" in _columns(demo, "orders")
        b.goto(f"{base}/plans/{loyalty.pk}/execute/")
        assert b.locator(".msg.error").count() == 0
        step_up(b, "dba2", "form")
        b.click("button:has-text('Execute now')")
        b.wait_for_url("**/executions/*/")
        assert Execution.objects.get(plan=loyalty).status == Execution.Status.SUCCEEDED
        assert "loyalty_tier" in _columns(demo, "customers")
        shot(b, "second-dba-05-b-ran-after-a")
    finally:
        context_b.close()
    assert time.monotonic() - started < 60
