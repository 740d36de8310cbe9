"""Under the strict Content-Security-Policy, in headless chromium: every main page (and every tab
of a plan, loaded by htmx) runs with no CSP violation and no script error in the console, the
charts (dependency graph, risk chart, baseline box plots, validation ratio chart) are drawn, and
the SQL editor opens its completion list on the new-plan, replace-SQL and plan pages."""

from __future__ import annotations

import pytest

from baselines_app.models import BaselineRun, PerformanceValidation
from migrations_app import execution as runner
from migrations_app import workflow
from migrations_app.incidents import open_incident
from migrations_app.models import Execution, Rehearsal
from migrations_app.rehearsals import request_rehearsal
from tests.browser.conftest import login
from tests.factories import MigrationPlanFactory
from tests.rehearsal.conftest import SHOP_OPS, SOURCE_SQL, ready_copy, shop_target  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DROP_STATUS = [{"type": "DROP_COLUMN", "schema_name": "shop", "table": "orders", "column": "status",
                "sql": "ALTER TABLE shop.orders DROP COLUMN status",
                "rollback_sql": "ALTER TABLE shop.orders ADD COLUMN status text NOT NULL DEFAULT 'new'",
                "rollback_note": "", "line": 1}]


@pytest.fixture
def source_db(target_db):
    """The shop database with a view on orders.status, so dropping it has a dependency to draw."""
    return target_db(SOURCE_SQL + "CREATE VIEW shop.order_states AS SELECT id, status FROM shop.orders;")


class Console:
    """Every console error and uncaught page error, CSP refusals included."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("console", lambda msg: self.problems.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error" or "Content Security Policy" in msg.text else None)
        page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))


def _charts_drawn(page, console, selector: str, count: int) -> None:
    try:
        page.wait_for_function("([s, n]) => document.querySelectorAll("
                               "s + ' [data-chart][data-drawn=done] .js-plotly-plot').length >= n", arg=[selector, count])
    except Exception as exc:
        state = page.evaluate("s => [...document.querySelectorAll(s + ' [data-chart]')].map(c => c.outerHTML.slice(0, 200))",
                              selector)
        raise AssertionError(f"fewer than {count} charts drawn in {selector} on {page.url}: {console.problems}, "
                             f"charts: {state}") from exc


def test_the_main_pages_run_under_the_strict_policy_without_a_violation_and_draw_their_charts(
        browser_page, live_server, shop_target, ready_copy, dba, manager):  # noqa: F811
    note = MigrationPlanFactory(author=dba, target=shop_target, title="Add a note to orders", schema="shop",
                                operations=SHOP_OPS)
    workflow.request_analysis(note, dba)  # django-q2 runs it inline in tests
    note.refresh_from_db()
    rehearsal = request_rehearsal(note, dba, ready_copy)
    rehearsal.refresh_from_db()
    assert rehearsal.status == Rehearsal.Status.PASSED, rehearsal.error
    note.refresh_from_db()
    execution = runner.start_execution(note, dba)
    execution.refresh_from_db()
    assert execution.status == Execution.Status.SUCCEEDED, execution.error
    incident = open_incident(execution, "execution_failed", "opened for the page test", actor=dba)
    drop = MigrationPlanFactory(author=dba, target=shop_target, title="Drop orders.status", schema="shop",
                                operations=DROP_STATUS)
    workflow.request_analysis(drop, dba)
    before_run = BaselineRun.objects.filter(label__contains="before").first()
    validation = PerformanceValidation.objects.first()
    assert before_run is not None and validation is not None

    page = browser_page
    console = Console(page)
    login(page, live_server, dba.username, "pw-" + dba.username)

    # the plan with dependents: every tab through htmx, the graph and the risk chart drawn
    page.goto(f"{live_server.url}{drop.get_absolute_url()}")
    for label in ("Dependencies", "Risk", "Mitigation", "Sign-offs and history", "Operations"):
        page.click(f".tabs >> text={label}")
        page.wait_for_selector(f".tabs a.active:has-text('{label}')")
        page.wait_for_load_state("networkidle")
        if label == "Dependencies":
            page.wait_for_selector("#dep-table")
            _charts_drawn(page, console, "#dependencies", 1)
            page.select_option("#dep-impact", "CRITICAL")  # the filter runs from static/js/app.js
            page.select_option("#dep-impact", "")
        if label == "Risk":
            _charts_drawn(page, console, "#tab-body", 1)
    # the same tabs loaded directly (no htmx swap)
    page.goto(f"{live_server.url}{drop.get_absolute_url()}?tab=dependencies")
    _charts_drawn(page, console, "#dependencies", 1)

    pages = ["/", "/plans/", "/plans/queue/", note.get_absolute_url(), execution.get_absolute_url(),
             "/staging/", f"/staging/{ready_copy.staging_id}/", "/baselines/", f"/staging/rehearsals/{rehearsal.pk}/",
             incident.get_absolute_url() if hasattr(incident, "get_absolute_url") else f"/incidents/{incident.pk}/",
             "/incidents/", "/alerts/", "/audit/", "/targets/", f"/targets/{shop_target.pk}/health/", "/policy/"]
    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")

    # the SQL editor (CodeMirror, loaded by static/js/sql_editor.js) and its completion list
    for path in ("/plans/new/", f"/plans/{drop.pk}/sql/", drop.get_absolute_url()):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_selector(".CodeMirror.sql-editor")
        page.wait_for_function("() => !document.querySelector('.sql-editor-status').textContent.startsWith('Loading')")
        page.click(".CodeMirror.sql-editor >> nth=0 >> .CodeMirror-lines")
        page.keyboard.type(" ord")
        page.keyboard.press("Control+Space")
        page.wait_for_selector(".CodeMirror-hints li")
        page.keyboard.press("Escape")

    page.goto(f"{live_server.url}/baselines/runs/{before_run.pk}/")
    _charts_drawn(page, console, "body", 1)
    page.goto(f"{live_server.url}/baselines/validations/{validation.pk}/")
    _charts_drawn(page, console, "body", 2)
    page.wait_for_load_state("networkidle")

    assert console.problems == []
