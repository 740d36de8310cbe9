"""A manager's day on the seeded demo, in headless chromium, reading what each page says.

The dashboard and the inbox say what waits; the approval queue shows each plan's risk and the state
of its latest rehearsal; the HIGH plan's page shows its risk and the failed rehearsal (read in full),
the gate line says what is missing and where it is done; the CRITICAL plan's checklist is ticked
from the gate's link; approvals are given (with an authenticator code when step-up asks for one:
the demo enrols every demo user, as ``seed_demo`` does) and the buttons go; on a MEDIUM plan the
manager is not offered an approval that would count for nothing, and rejects it with a comment the
author then finds in their inbox; a comment's @mention lands in the mentioned user's inbox.

The rehearsal is the DBA's work (test_journey_dba.py walks it in the browser): here the DBA makes
it through the same functions the staging and rehearsal pages call, before the manager's day.
"""

from __future__ import annotations

import re
import time

import pytest

from migrations_app.models import PlanStatus, Rehearsal, SignOff
from tests.browser.journeys.conftest import login_as, shot, step_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HIGH = "Drop customers.legacy_status"
CRITICAL = "Reset order history"
MEDIUM = "Clear the bronze legacy status"


@pytest.fixture
def rehearsed_demo(demo):
    """The DBA's morning: a 10% staging copy of demo_shop and a rehearsal of the HIGH plan on it,
    which fails (the view active_customers reads the column the plan drops)."""
    from migrations_app.rehearsals import request_rehearsal
    from staging_app.models import StagingEnvironment
    from staging_app.registry import manager_for
    from tests.staging.conftest import drop_leftover_copies

    dba = demo.users["dba"]
    manager = manager_for(demo.target, dba)
    env = manager.create_staging_environment(demo.target.connection(), 0.1)
    try:
        manager.replicate_production_schema(env.staging_id)
        copy = StagingEnvironment.objects.get(staging_id=env.staging_id)
        assert copy.status == StagingEnvironment.Status.READY, copy.error
        rehearsal = request_rehearsal(demo.plan(HIGH), dba, copy, measure_baselines=False)  # runs inline (sync)
        rehearsal.refresh_from_db()
        assert rehearsal.status == Rehearsal.Status.FAILED, rehearsal.status
        yield demo, rehearsal
    finally:
        drop_leftover_copies(StagingEnvironment.objects.values_list("staging_id", flat=True))


def _gate(page) -> str:
    return page.inner_text("#gate")


def test_a_managers_day(browser_page, live_server, rehearsed_demo):
    demo, rehearsal = rehearsed_demo
    page, base = browser_page, live_server.url
    high, critical, medium = demo.plan(HIGH), demo.plan(CRITICAL), demo.plan(MEDIUM)
    assert (high.risk_level, critical.risk_level, medium.risk_level) == ("HIGH", "CRITICAL", "MEDIUM")
    started = time.monotonic()

    # Morning: the dashboard and the inbox say what waits for a manager (HIGH and CRITICAL only).
    login_as(page, live_server, "manager")
    awaiting = page.inner_text("text=Awaiting my sign-off >> xpath=following-sibling::ul[1]")
    assert HIGH in awaiting and CRITICAL in awaiting and MEDIUM not in awaiting, awaiting
    shot(page, "manager-01-dashboard")
    page.click("nav >> text=Inbox")
    inbox = page.inner_text("#awaiting")
    assert "Awaiting my sign-off 2" in inbox and HIGH in inbox and CRITICAL in inbox, inbox
    assert "Nothing happened to your plans yet, and nobody mentioned you." in page.inner_text("#activity")

    # The approval queue: risk and the state of each plan's latest rehearsal.
    page.goto(f"{base}/plans/queue/")
    assert "Managers approve HIGH and CRITICAL plans." in page.inner_text("main")
    high_row = page.locator("tr", has=page.locator(f"a:text-is('{HIGH}')"))
    critical_row = page.locator("tr", has=page.locator(f"a:text-is('{CRITICAL}')"))
    assert re.search(r"HIGH \d+", high_row.inner_text()) and "dba" in high_row.inner_text()
    assert "failed" in high_row.locator(".rehearsal-state").inner_text()
    assert re.search(r"CRITICAL \d+", critical_row.inner_text())
    assert "failed" not in critical_row.locator(".rehearsal-state").inner_text()
    shot(page, "manager-02-queue")

    # The HIGH plan: its risk, the failed rehearsal (read in full), and the gate line.
    page.click(f"text={HIGH}")
    page.wait_for_selector(f"h1:has-text('{HIGH}')")
    page.click(".tabs >> text=Risk")
    page.wait_for_selector("#risk h2:has-text('Risk')")
    assert re.search(r"HIGH \d+/100", page.inner_text("#risk"))
    assert "column-has-dependents" in page.inner_text("#risk") or "active_customers" in page.inner_text("#risk")
    failed = page.inner_text("#failed-rehearsal")
    assert f"The latest rehearsal of this SQL failed (#{rehearsal.pk}" in failed, failed
    missing = page.inner_text("#gate-missing")
    assert "What is missing: Approval by a manager; Passed staging validation of this SQL." in missing, missing
    assert page.locator("#gate-missing a:text('Passed staging validation of this SQL')").get_attribute(
        "href") == "#plan-rehearsals"
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "manager-03-high-plan")
    page.click("#failed-rehearsal >> text=Read the rehearsal")
    page.wait_for_url(f"**/staging/rehearsals/{rehearsal.pk}/")
    body = page.inner_text("main")
    assert "active_customers" in body and "FAILED" in body.upper(), body
    shot(page, "manager-04-failed-rehearsal")
    page.go_back()  # to the plan page as it was, not the Risk tab's fragment (Vary: HX-Request)
    page.wait_for_selector("#gate")

    # Approving over a failed rehearsal needs it said in so many words; then the buttons go.
    form = page.locator("form.signoff")
    assert form.locator("button").all_inner_texts() == ["Approve", "Reject"]
    form.locator("textarea[name=comment]").fill("Approved: the view is dropped by the follow-up plan")
    step_up(page, "manager", "form.signoff")
    form.locator("button:has-text('Approve')").click()
    page.wait_for_selector(".messages, .msg")
    assert "Nothing was recorded: rehearsal" in page.inner_text("main")
    assert not SignOff.objects.filter(plan=high).exists()
    page.goto(f"{base}/plans/{high.pk}/")
    form.locator("input[name=acknowledge_failed_rehearsal]").check()
    form.locator("textarea[name=comment]").fill("Approved: the view is dropped by the follow-up plan")
    step_up(page, "manager", "form.signoff")
    form.locator("button:has-text('Approve')").click()
    page.wait_for_selector("text=Recorded: approve. The plan is in review.")
    assert page.locator("form.signoff").count() == 0
    gate = _gate(page)
    assert "✔ Approval by a manager (approved by manager)" in gate, gate
    assert "What is missing: Passed staging validation of this SQL." in page.inner_text("#gate-missing")
    assert "You have already signed off this version of the plan." in gate
    shot(page, "manager-05-high-approved")
    record = SignOff.objects.get(plan=high)
    assert (record.user.username, record.decision) == ("manager", "approve")

    # The CRITICAL plan: the gate links to the checklist; ticking it changes the gate line.
    page.goto(f"{base}/plans/{critical.pk}/")
    missing = page.inner_text("#gate-missing")
    assert "Pre-migration checklist (backup done and verified, RTO and RPO confirmed)" in missing, missing
    assert "Approval by a manager" in missing and "Full staging test" in missing
    page.click("#gate >> text=Open the checklist")
    page.wait_for_selector("#checklist form")
    assert "Required for CRITICAL plans on production targets" in page.inner_text("#checklist")
    for box in page.locator("#checklist input[type=checkbox]").all():
        box.check()
    page.click("#checklist button:has-text('Save checklist')")
    page.wait_for_selector("text=Pre-migration checklist saved.")
    assert "Last ticked by manager" in page.inner_text("#checklist")
    gate = _gate(page)
    assert "✔ Pre-migration checklist (backup done and verified, RTO and RPO confirmed) (ticked by manager)" in gate
    assert "checklist" not in page.inner_text("#gate-missing").lower()
    shot(page, "manager-06-checklist-ticked")
    step_up(page, "manager", "form.signoff")
    page.click("form.signoff button:has-text('Approve')")
    page.wait_for_selector("text=Recorded: approve. The plan is in review.")
    assert page.locator("form.signoff").count() == 0
    assert "✔ Approval by a manager (approved by manager)" in _gate(page)
    assert "What is missing: Full staging test" in page.inner_text("#gate-missing")

    # Both approvals given: the queue is empty.
    page.goto(f"{base}/plans/queue/")
    assert "Nothing waits for you." in page.inner_text("table")

    # A MEDIUM plan needs a DBA's review: no Approve button, the reason beside the form.
    page.goto(f"{base}/plans/{medium.pk}/")
    form = page.locator("form.signoff")
    assert form.locator("button").all_inner_texts() == ["Reject"]
    limit = page.inner_text(".sign-off-limit")
    assert '"approve" counts for nothing on a MEDIUM plan: it needs review sign-off by a DBA' in limit, limit
    status = page.evaluate("""async (url) => {
        const form = document.querySelector('form.signoff');
        const body = new URLSearchParams(new FormData(form));
        body.set('decision', 'approve');
        return (await fetch(url, {method: 'POST', body})).status;
    }""", f"/plans/{medium.pk}/sign-off/")
    assert status in (200, 302)  # a state refusal is said on the page, not a 403
    assert not SignOff.objects.filter(plan=medium).exists()

    # ... and rejects it with a comment; the comment @mentions the other DBA.
    form.locator("textarea[name=comment]").fill("Run it in the maintenance window, not at noon")
    form.locator("button:has-text('Reject')").click()
    page.wait_for_selector("text=Recorded: reject. The plan is rejected.")
    assert page.locator("form.signoff").count() == 0
    assert "No rejection of this version (a reviewer rejected it)" in _gate(page)
    page.fill("#comment-body", "@dba please take the bronze clean-up into tonight's window")
    page.click("#comments button:has-text('Comment')")
    page.wait_for_selector("text=Comment posted; dba notified.")
    medium.refresh_from_db()
    assert medium.status == PlanStatus.REJECTED
    shot(page, "manager-07-medium-rejected")

    # The author finds the rejection and its comment in the inbox.
    login_as(page, live_server, "dba2")
    page.goto(f"{base}/inbox/")
    activity = page.inner_text("#activity")
    assert "rejected the plan: Run it in the maintenance window, not at noon" in activity, activity
    assert "commented: @dba please take the bronze clean-up" in activity
    shot(page, "manager-08-author-inbox")

    # The mentioned DBA finds the mention, and the manager's approvals of their HIGH plan.
    login_as(page, live_server, "dba")
    page.goto(f"{base}/inbox/")
    activity = page.inner_text("#activity")
    assert "mentioned you: @dba please take the bronze clean-up into tonight's window" in activity, activity
    assert "signed off: approve: Approved: the view is dropped by the follow-up plan" in activity
    page.click(f"#activity tr.inbox-mention >> text={MEDIUM}")
    page.wait_for_selector("#comments")
    assert "@dba please take the bronze clean-up" in page.inner_text("#comments")
    assert time.monotonic() - started < 60
