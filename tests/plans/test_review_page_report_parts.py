"""The review page never loads a plan's whole analysis report: it reads the summary stored when the
analysis finished and, on the operations tab, the page's statements in SQL. The digest the review
version binds is stored at the finish too; approval and the executor still read the whole report
and refuse one edited by hand (a page view does not)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from migrations_app import gate, report_store, workflow
from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.models import AnalysisRun, MigrationPlan, PlanStatus
from migrations_app.review_version import analysis_digest, compute_analysis_digest
from tests.factories import AnalysedFactory, MigrationPlanFactory, analyse

COUNT = 130  # two pages of operations (100 a page)


def _sql(i: int) -> str:
    return f"ALTER TABLE orders ADD COLUMN c_{i} text" if i % 2 else f"CREATE INDEX idx_{i} ON orders (id)"


@pytest.fixture
def long_plan(dba, target):
    plan = MigrationPlanFactory(author=dba, target=target, operations=[
        {"type": "OTHER", "schema_name": "public", "table": "orders", "sql": _sql(i), "line": i + 1}
        for i in range(COUNT)])
    report = analyze_plan([{"sql": _sql(i)} for i in range(COUNT)]).to_dict()
    run = AnalysedFactory(plan=plan, report=report)
    plan.refresh_from_db()
    return plan, run, report


def _reads_whole_report(queries) -> list[str]:
    return [q["sql"] for q in queries if re.search(r'"migrations_app_analysisrun"\."report"', q["sql"])]


def test_the_finished_analysis_stores_its_summary_and_the_digest_the_page_computed(long_plan):
    plan, run, report = long_plan
    assert run.digest == compute_analysis_digest(run, run.report)  # the review version signed before is unchanged
    assert run.summary == report_store.summarise(run.report)
    assert "statements" not in run.summary and run.summary["statement_count"] == COUNT
    assert run.summary["finding_count"] == sum(len(s["findings"]) for s in report["statements"])
    assert "operations" not in run.summary["risk"]
    assert run.summary["risk"]["factor_count"] == len(report["risk"]["factors"])


def test_every_tab_of_the_review_page_reads_parts_of_the_report_never_all_of_it(long_plan, client_for, manager):
    plan, run, report = long_plan
    client = client_for(manager)
    for tab in ["operations", "dependencies", "risk", "mitigation", "history"]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("plan_detail", args=[plan.pk]), {"tab": tab})
        assert response.status_code == 200
        assert not _reads_whole_report(queries), tab
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("plan_analysis_status", args=[plan.pk]))
    assert not _reads_whole_report(queries)


def test_the_second_page_of_operations_shows_the_second_page_of_statements(long_plan, client_for, manager):
    plan, run, report = long_plan
    response = client_for(manager).get(reverse("plan_detail", args=[plan.pk]), {"tab": "operations", "ops": 2})
    body = response.content.decode()
    rows = re.findall(r'<tr id="op-\d+">(.*?)</tr>', body, re.S)
    assert len(rows) == COUNT - 100
    for i, row in zip(range(100, COUNT), rows):
        statement = report["statements"][i]
        assert _sql(i) in row
        assert f"lock <code>{statement['lock'] or 'none'}</code>" in row
        assert sorted(re.findall(r"<code>([a-z0-9-]+)</code></a>", row)) == sorted(f["rule"] for f in statement["findings"])
    assert report_store.statements_slice(gate.current_analysis(plan), 100, COUNT) == report["statements"][100:]
    assert report_store.statements_slice(gate.current_analysis(plan), COUNT - 5, COUNT + 50) == report["statements"][-5:]


def test_the_risk_tab_says_how_many_factors_a_summary_keeps(long_plan, client_for, manager, monkeypatch):
    plan, run, report = long_plan
    total = len(report["risk"]["factors"])
    assert total > 3
    monkeypatch.setattr(report_store, "SUMMARY_FACTORS", 3)
    workflow.store_summary_and_digest(run)
    body = client_for(manager).get(reverse("plan_detail", args=[plan.pk]), {"tab": "risk"}).content.decode()
    assert f"The 3 heaviest of {total} factors." in body
    heaviest = sorted(report["risk"]["factors"], key=lambda f: -f["points"])[0]
    assert heaviest["evidence"].replace("'", "&#x27;").replace('"', "&quot;") in body


def _edit_report_by_hand(run, **risk):
    """What someone with write access to the app database could do: the report says LOW now."""
    report = AnalysisRun.objects.get(pk=run.pk).report
    report["risk"].update(risk)
    AnalysisRun.objects.filter(pk=run.pk).update(report=report)


def test_a_report_edited_by_hand_fails_the_strict_gate_and_the_executors_recheck(dba, target, client_for, manager):
    plan = MigrationPlanFactory(author=dba, target=target)
    analyse(plan)  # LOW: executable once analysed, no sign-off needed
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and gate.executable(plan) == (True, "")
    version = gate.current_review_version(plan)
    _edit_report_by_hand(gate.current_analysis(plan), overall_score=1)
    result = gate.evaluate_gate(plan)
    assert not result.satisfied and [r.key for r in result.missing] == ["stored_analysis"]
    ok, reason = gate.executable(plan)
    assert not ok and "changed outside the app" in reason
    # a page view trusts the stored digest (it is not recomputed per view): same version shown
    assert gate.current_review_version(plan) == version
    assert gate.evaluate_gate(plan, strict=False).satisfied


def test_an_analysis_edited_by_hand_is_not_approved(dba, other_dba, target):
    plan = MigrationPlanFactory(author=dba, target=target)
    analyse(plan, "MEDIUM")
    run = gate.current_analysis(plan)
    workflow.sign_off(plan, other_dba, "review", "fine")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    MigrationPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.IN_REVIEW)
    AnalysisRun.objects.filter(pk=run.pk).update(risk_score=11)  # the row, not the report
    assert not workflow.refresh_approval(plan, None)
    assert gate.evaluate_gate(plan).missing[0].key == "stored_analysis"


def test_a_summary_edited_by_hand_fails_the_strict_gate(dba, target):
    plan = MigrationPlanFactory(author=dba, target=target)
    analyse(plan)
    run = gate.current_analysis(plan)
    AnalysisRun.objects.filter(pk=run.pk).update(summary={**run.summary, "data_backup": None, "policy": {}})
    assert gate.evaluate_gate(plan).missing[0].key == "stored_analysis"


def test_a_row_without_a_stored_digest_is_hashed_from_its_report(dba, target):
    plan = MigrationPlanFactory(author=dba, target=target)
    analyse(plan)
    run = gate.current_analysis(plan)
    stored = analysis_digest(run)
    AnalysisRun.objects.filter(pk=run.pk).update(digest="", summary=None)
    run = gate.current_analysis(plan)
    assert analysis_digest(run) == stored
    assert report_store.summary_of(run) == report_store.summarise(AnalysisRun.objects.get(pk=run.pk).report)
    _edit_report_by_hand(run, overall_score=1)
    assert analysis_digest(gate.current_analysis(plan)) != stored  # so the sign-offs bound to it stop counting
