"""An engineer's day on the seeded demo (a read-only role), in headless chromium.

The engineer reads everything the DBAs and managers do: plans, their risk and rehearsals, a plan's
versions with the SQL diff, an execution with its schema diff, an incident, the audit trail. No page
offers them a control that writes (except the comment thread, which every reader may join), and a
sign-off or an execute forged from the page with its CSRF token is refused with 403, the refusal
page saying nothing changed, and the plan page afterwards showing that nothing did.

Before the day (the DBAs' work, through the functions the pages call): the draft plan gets a second
version of its SQL, the LOW plan runs, and a copy of it written by the other DBA fails (the column
exists by then), which opens an incident.
"""

from __future__ import annotations

import time

import pytest

from migrations_app.models import Execution, PlanStatus, SignOff
from tests.browser.journeys.conftest import login_as, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LOW = "Add shipping weight to products"
HIGH = "Drop customers.legacy_status"
DRAFT = "Widen customers.email"
AGAIN = "Add shipping weight to products (second copy)"

FORGE = """async ([url, fields]) => {
    const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
    const body = new URLSearchParams({...fields, csrfmiddlewaretoken: token});
    const response = await fetch(url, {method: 'POST', body});
    return {status: response.status, text: await response.text()};
}"""

# Controls that write, by what they do: none may be on an engineer's page.
WRITE_CONTROLS = [
    "a:text-is('New plan')", "form[action$='/analyse/']", "a:text-is('Replace SQL')", "a:text-is('Edit details')",
    "form.signoff", "a:text('Execute…')", "a:text('Roll back…')", "a:text('Emergency stop…')",
    "form[action$='/checklist/']", "form[action*='/rehearse/']", "form[action*='/mitigation/']",
    "form[action$='/reopen/']", "button:text('Rehearse on staging')",
]


@pytest.fixture
def engineer_demo(demo, settings):
    from migrations_app import execution as runner
    from migrations_app import workflow
    from migrations_app.plan_sql import script_to_operations
    from migrations_app.tasks import run_plan_analysis

    settings.DATAFLOW_STEP_UP_ROLES = []  # the DBAs' runs before the day need no authenticator
    dba, dba2, target = demo.users["dba"], demo.users["dba2"], demo.target
    workflow.replace_operations(demo.plan(DRAFT), dba, script_to_operations(
        "ALTER TABLE customers ALTER COLUMN email TYPE varchar(400)", "public", target))
    again = workflow.create_plan(dba2, target=target, title=AGAIN, description="Same change, written twice.",
                                 operations=script_to_operations(
                                     "ALTER TABLE products ADD COLUMN weight_grams integer", "public", target))
    run_plan_analysis(workflow.request_analysis(again, dba2).pk)
    low = demo.plan(LOW)
    again.refresh_from_db()
    assert (low.status, again.status) == (PlanStatus.APPROVED, PlanStatus.APPROVED), (low.status, again.status)
    ran = runner.start_execution(low, dba)  # django-q2 runs it inline in tests
    failed = runner.start_execution(again, dba)
    ran.refresh_from_db(), failed.refresh_from_db()
    assert (ran.status, failed.status) == (Execution.Status.SUCCEEDED, Execution.Status.FAILED), (
        ran.status, failed.status, failed.error)
    assert failed.incidents.exists()
    settings.DATAFLOW_STEP_UP_ROLES = None  # back as make run has it
    return demo, ran, failed


def _no_write_controls(page, where: str) -> None:
    present = [selector for selector in WRITE_CONTROLS if page.locator(selector).count()]
    assert not present, f"{where}: an engineer is offered {present}"


def test_an_engineers_day(browser_page, live_server, engineer_demo):
    demo, ran, failed = engineer_demo
    page, base = browser_page, live_server.url
    high, low, draft = demo.plan(HIGH), demo.plan(LOW), demo.plan(DRAFT)
    started = time.monotonic()

    login_as(page, live_server, "engineer")
    assert "Awaiting my sign-off" not in page.inner_text("main")
    assert page.locator("a:text-is('Add target')").count() == 0
    shot(page, "engineer-01-dashboard")

    # Plans: every plan listed, none to write.
    page.click("nav >> text=Plans")
    listing = page.inner_text("main")
    for title in (LOW, HIGH, DRAFT, AGAIN):
        assert title in listing, title
    _no_write_controls(page, "plans list")

    # A HIGH plan: its risk, gate and tabs are all readable; nothing offers a write.
    page.click(f"text={HIGH}")
    page.wait_for_selector(f"h1:has-text('{HIGH}')")
    assert "What is missing: Approval by a manager; Passed staging validation of this SQL." in page.inner_text(
        "#gate-missing")
    _no_write_controls(page, "plan page")
    for tab, marker in (("Risk", "#risk"), ("Dependencies", "#dependencies"), ("Mitigation", "#mitigation"),
                        ("Sign-offs and history", "#comments")):
        page.click(f".tabs >> text={tab}")
        page.wait_for_selector(marker)
        _no_write_controls(page, f"{tab} tab")
    assert page.locator("#comment-body").count() == 1  # every reader may comment: it changes nothing that runs
    page.click(".tabs >> text=Risk")
    page.wait_for_selector("#checklist")
    assert "✘ Full database backup completed" in page.inner_text("#checklist")
    shot(page, "engineer-02-high-plan")

    # A forged sign-off and a forged execute, with the page's own CSRF token: 403, nothing changed.
    gate_before = page.inner_text("#gate")
    refused = page.evaluate(FORGE, [f"/plans/{high.pk}/sign-off/", {"decision": "approve", "comment": "forged"}])
    assert refused["status"] == 403
    assert "Nothing was changed." in refused["text"] and "Your role does not allow this." in refused["text"]
    refused = page.evaluate(FORGE, [f"/plans/{low.pk}/execute/", {}])
    assert refused["status"] == 403 and "Nothing was changed." in refused["text"]
    refused = page.evaluate(FORGE, [f"/plans/{high.pk}/checklist/", {"backup_completed": "on"}])
    assert refused["status"] == 403 and "Nothing was changed." in refused["text"]
    page.reload()
    page.wait_for_selector("#gate")
    assert page.inner_text("#gate") == gate_before
    assert not SignOff.objects.filter(plan=high).exists()
    assert Execution.objects.filter(plan=low).count() == 1
    high.refresh_from_db()
    assert high.status == PlanStatus.IN_REVIEW and not high.checklist_complete and high.checklist_by is None

    # History: the draft's two versions and the SQL diff between them.
    page.goto(f"{base}/plans/{draft.pk}/?tab=history")
    versions = page.inner_text("#tab-body")
    assert "v1" in versions and "v2" in versions and "plan.sql_replaced" in versions, versions
    page.click("text=against current")
    page.wait_for_selector("#version-diff")
    diff = page.inner_text("#version-diff")
    assert "v1 → v2" in diff and "varchar(320)" in diff and "varchar(400)" in diff, diff
    assert "varchar(320)" in page.inner_text("#version-diff .diff-del")
    assert "varchar(400)" in page.inner_text("#version-diff .diff-add")
    assert "\n\n" not in page.inner_text("#version-diff pre.diff").strip()  # one line per diff line
    _no_write_controls(page, "history tab")
    shot(page, "engineer-03-version-diff")

    # The executed plan: its execution page with the schema diff; no roll back for an engineer.
    page.goto(f"{base}/plans/{low.pk}/")
    page.click(f"#plan-execution >> text=Migration #{ran.pk}")
    page.wait_for_url(f"**/executions/{ran.pk}/")
    body = page.inner_text("main")
    assert "Status SUCCEEDED" in body and "Against the schema before this run: 1 object changed." in body, body[:800]
    assert "weight_grams" in page.inner_text(".schema-diff"), page.inner_text(".schema-diff")
    _no_write_controls(page, "execution page")
    shot(page, "engineer-04-execution-schema-diff")

    # The failed copy's incident: readable, no update form.
    page.click("nav >> text=Incidents")
    page.wait_for_selector("h1:has-text('Incidents')")
    incident = failed.incidents.get()
    assert AGAIN in page.inner_text("main")
    page.goto(f"{base}/incidents/{incident.pk}/")
    body = page.inner_text("main")
    assert "already exists" in body, body[:800]
    assert page.locator(f"form[action$='/incidents/{incident.pk}/update/']").count() == 0
    refused = page.evaluate("""async (url) => {
        const body = new URLSearchParams({status: 'resolved', note: 'forged',
            csrfmiddlewaretoken: document.cookie.replace(/(?:^|.*;\\s*)csrftoken=([^;]*).*$/, '$1')});
        const response = await fetch(url, {method: 'POST', body, headers: {'X-CSRFToken': body.get('csrfmiddlewaretoken')}});
        return {status: response.status, text: await response.text()};
    }""", f"/incidents/{incident.pk}/update/")
    assert refused["status"] == 403 and "Nothing was changed." in refused["text"], refused["status"]
    incident.refresh_from_db()
    assert incident.status == "open"
    shot(page, "engineer-05-incident")

    # The audit trail is open to every reader.
    page.click("nav >> text=Audit")
    page.wait_for_selector("h1:has-text('Audit trail')")
    audit = page.inner_text("main")
    assert "execution.queued" in audit and "plan.sql_replaced" in audit, audit[:800]
    shot(page, "engineer-06-audit")
    assert time.monotonic() - started < 60
