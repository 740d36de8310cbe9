"""No page that watches a job needs a reload: the job is started from the page, a worker (this
test's thread, as a django-q2 worker would) runs it while the page polls, and every panel that
depends on the job changes. ``window.stillTheSamePage`` is set once: a reload would clear it."""

from __future__ import annotations

import time

import pytest

from baselines_app.models import BaselineRun
from baselines_app.tasks import run_baseline_measurement
from migrations_app import workflow
from migrations_app.models import AnalysisRun, Rehearsal
from migrations_app.tasks import rehearse_plan, run_plan_analysis
from staging_app.models import StagingEnvironment
from staging_app.tasks import replicate_staging_environment
from targets.models import TargetDatabase
from tests.browser.conftest import login
from tests.rehearsal.conftest import SHOP_OPS, shop_plan, shop_target, source_db  # noqa: F401  (fixtures)
from tests.rehearsal.conftest import ready_copy  # noqa: F401
from tests.factories import MigrationPlanFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def queued_not_run(monkeypatch):
    """django-q2 queues to its broker instead of running inline: the test runs the task itself,
    after the page has started polling, as a worker process would."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)


def _mark_page(page):
    page.evaluate("window.stillTheSamePage = true")


def _still_the_same_page(page) -> bool:
    return page.evaluate("window.stillTheSamePage === true")


def _wait_for_row(query, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        row = query.first()
        if row is not None:
            return row
        time.sleep(0.1)
    raise AssertionError("the page never queued the job")


def test_a_rehearsal_started_on_the_plan_page_updates_the_gate_card_and_the_rehearsal_list_without_a_reload(
        browser_page, live_server, queued_not_run, shop_plan, analysed, ready_copy, dba, manager):  # noqa: F811
    plan = analysed(shop_plan, "HIGH")
    workflow.sign_off(plan, manager, "approve", "once rehearsed")
    page = browser_page
    login(page, live_server, dba.username, "pw-" + dba.username)
    page.goto(f"{live_server.url}{plan.get_absolute_url()}")
    _mark_page(page)
    assert "no rehearsal of this SQL yet" in page.inner_text("#gate")
    assert "in review" in page.inner_text("#plan-summary h1").lower()

    page.click("#plan-rehearsals button:has-text('Rehearse on staging')")
    rehearsal = _wait_for_row(Rehearsal.objects.filter(plan=plan))
    page.wait_for_selector(f"#rehearsal-{rehearsal.pk}[hx-trigger='every 1s']")
    assert rehearse_plan(rehearsal.pk) == "passed"

    page.wait_for_selector(f"#gate :text('rehearsal #{rehearsal.pk} on {ready_copy.database_name}')")
    assert "no rehearsal of this SQL yet" not in page.inner_text("#gate")
    page.wait_for_selector("#plan-summary h1 .pill.APPROVED")
    assert "passed" in page.inner_text("#plan-rehearsals").lower()
    # the rehearsal ran on a clone: the copy stays pristine and is offered for the next rehearsal
    page.wait_for_selector("#plan-rehearsals :text('Rehearse on staging')")
    assert _still_the_same_page(page)

    # the rehearsal's baselines are listed under Baselines, named after it
    page.goto(f"{live_server.url}/baselines/")
    runs = page.inner_text("#baseline-jobs")
    assert f"rehearsal #{rehearsal.pk} of Add a note to orders: before the plan" in runs
    assert f"rehearsal #{rehearsal.pk} of Add a note to orders: after the plan" in runs


def test_an_analysis_started_on_the_plan_page_fills_the_summary_gate_and_tab_without_a_reload(
        browser_page, live_server, queued_not_run, shop_target, dba):  # noqa: F811
    plan = MigrationPlanFactory(author=dba, target=shop_target, title="Add a note to orders", schema="shop",
                                operations=SHOP_OPS)
    page = browser_page
    login(page, live_server, dba.username, "pw-" + dba.username)
    page.goto(f"{live_server.url}{plan.get_absolute_url()}")
    _mark_page(page)
    assert "Not analysed yet" in page.inner_text("#analysis-status")

    page.click("#plan-summary button:has-text('Analyse')")
    run = _wait_for_row(AnalysisRun.objects.filter(plan=plan))
    page.wait_for_selector("#analysis-status[hx-trigger='every 1s']")  # the POST's redirect page, marked again
    _mark_page(page)
    assert run_plan_analysis(run.pk) == "done"
    run.refresh_from_db()

    page.wait_for_selector("#analysis-status .pill.ok")
    page.wait_for_selector(f"#gate :text('Sign-off gate for {run.risk_level}')")
    page.wait_for_selector(f"#plan-summary h1 .risk:text('{run.risk_level}')")
    assert _still_the_same_page(page)


def test_a_baseline_run_page_shows_its_baselines_when_the_run_ends_without_a_reload(
        browser_page, live_server, queued_not_run, ready_copy, dba):  # noqa: F811
    # the development preset turns baselines off; a copy of a production target measures them
    TargetDatabase.objects.filter(pk=ready_copy.target_id).update(environment=TargetDatabase.Environment.PRODUCTION)
    page = browser_page
    login(page, live_server, dba.username, "pw-" + dba.username)
    page.goto(f"{live_server.url}/baselines/measure/?target={ready_copy.target_id}")
    page.fill("input[name=label]", "copy before the change")
    page.select_option("select[name=staging_environment]", str(ready_copy.pk))
    page.fill("input[name=schema]", "shop")
    page.click("form button.primary")
    run = _wait_for_row(BaselineRun.objects.filter(label="copy before the change"))
    page.wait_for_url(f"**/baselines/runs/{run.pk}/")
    _mark_page(page)
    assert "No baselines yet." in page.inner_text("#baseline-results")
    assert page.locator("#baseline-table-filter option").count() == 1  # "any": nothing measured yet

    # the list page follows the same run: its status pill polls, the tables refresh at the end
    other = page.context.new_page()
    other.goto(f"{live_server.url}/baselines/")
    other.evaluate("window.stillTheSamePage = true")
    assert other.locator(f"#baseline-run-status-{run.pk} .pill.QUEUED").count() == 1

    assert run_baseline_measurement(run.pk) == "done", BaselineRun.objects.get(pk=run.pk).error
    page.wait_for_selector("#baseline-progress .pill.DONE")
    page.wait_for_selector("#baseline-results .pill.measured")
    assert "No baselines" not in page.inner_text("#baseline-results")
    # the table filter came with the swapped results: the measured tables, without a reload
    tables = sorted({b.table_name for b in run.baselines.all() if b.table_name})
    assert tables and page.locator("#baseline-table-filter option").all_inner_texts() == ["any"] + tables
    page.select_option("#baseline-table-filter", tables[0])
    page.wait_for_url(f"**/baselines/runs/{run.pk}/?table={tables[0]}*")
    assert page.locator("#baseline-table-filter").input_value() == tables[0]
    assert _still_the_same_page(page)
    other.wait_for_selector(f"#baseline-run-status-{run.pk} .pill.DONE")
    assert other.evaluate("window.stillTheSamePage === true")


def test_a_staging_copy_page_shows_the_replication_result_when_the_copy_is_ready_without_a_reload(
        browser_page, live_server, queued_not_run, shop_target, dba):  # noqa: F811
    page = browser_page
    login(page, live_server, dba.username, "pw-" + dba.username)
    page.goto(f"{live_server.url}/staging/new/?target={shop_target.pk}")
    page.fill("input[name=data_sample_size]", "0.5")
    page.select_option("select[name=masking_preset]", "none")
    page.click("form button.primary")
    env = _wait_for_row(StagingEnvironment.objects.filter(target=shop_target))
    page.wait_for_url(f"**/staging/{env.staging_id}/")
    _mark_page(page)
    assert "Replication result" not in page.inner_text("main")

    assert replicate_staging_environment(env.staging_id)["status"] == "READY"
    page.wait_for_selector("#staging-progress .pill.READY")
    page.wait_for_selector("#staging-result :text('Replication result')")
    assert "shop.orders" in page.inner_text("#staging-result")
    assert _still_the_same_page(page)
