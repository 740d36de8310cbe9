"""Fixes found by clicking through the plan review page as a DBA."""

from migrations_app.models import AnalysisRun


def test_review_page_polls_the_analysis_panel_while_the_analysis_is_queued(plan, dba, client_for):
    AnalysisRun.objects.create(plan=plan, sql_hash=plan.sql_hash)  # queued, no worker yet

    html = client_for(dba).get(plan.get_absolute_url()).content.decode()

    panel = html[html.index('id="analysis-status"'):].split(">", 1)[0]
    assert 'hx-trigger="every 1s"' in panel
    assert "was_running=1" in panel
    assert "{#" not in html  # a template comment never reaches the page


def test_review_page_stops_polling_once_the_analysis_is_done(plan, dba, client_for):
    AnalysisRun.objects.create(plan=plan, sql_hash=plan.sql_hash, status=AnalysisRun.Status.SUCCEEDED, report={})

    html = client_for(dba).get(plan.get_absolute_url()).content.decode()

    panel = html[html.index('id="analysis-status"'):].split(">", 1)[0]
    assert "hx-trigger" not in panel
