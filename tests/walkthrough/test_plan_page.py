"""Fixes found by clicking through the plan review page as a DBA."""

from tests.factories import AnalysisRunFactory


def test_review_page_polls_the_analysis_panel_while_the_analysis_is_queued(plan, dba, client_for):
    AnalysisRunFactory(plan=plan, queued=True)  # no worker yet

    html = client_for(dba).get(plan.get_absolute_url()).content.decode()

    panel = html[html.index('id="analysis-status"'):].split(">", 1)[0]
    assert 'hx-trigger="every 1s"' in panel
    assert "was_active=1" in panel
    assert "{#" not in html  # a template comment never reaches the page


def test_review_page_stops_polling_once_the_analysis_is_done(plan, dba, client_for):
    AnalysisRunFactory(plan=plan, report={})

    html = client_for(dba).get(plan.get_absolute_url()).content.decode()

    panel = html[html.index('id="analysis-status"'):].split(">", 1)[0]
    assert "hx-trigger" not in panel


def _edit(client, plan, sql, rollback_sql):
    operation = plan.operations.get()
    url = f"/plans/{plan.pk}/operations/{operation.pk}/edit/"
    response = client.post(url, {"sql": sql, "rollback_sql": rollback_sql}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    operation.refresh_from_db()
    return operation


def test_editing_the_sql_replaces_a_suggested_rollback_that_the_form_sent_back_unchanged(plan, dba, client_for):
    # The edit form is pre-filled with the suggestion for the old SQL; saving it as it came would
    # keep "DROP COLUMN nickname" as the rollback of a statement that adds another column.
    operation = _edit(client_for(dba), plan, "ALTER TABLE customers ADD COLUMN alias text",
                      "ALTER TABLE customers DROP COLUMN nickname")

    assert "DROP COLUMN alias" in operation.rollback_sql
    assert operation.rollback_note != "written by the author"


def test_editing_the_sql_keeps_a_rollback_the_author_typed(plan, dba, client_for):
    operation = _edit(client_for(dba), plan, "ALTER TABLE customers ADD COLUMN alias text",
                      "ALTER TABLE customers DROP COLUMN IF EXISTS alias")

    assert operation.rollback_sql == "ALTER TABLE customers DROP COLUMN IF EXISTS alias"
    assert operation.rollback_note == "written by the author"


def test_editing_only_the_rollback_keeps_the_authors_text(plan, dba, client_for):
    operation = _edit(client_for(dba), plan, "ALTER TABLE customers ADD COLUMN nickname text",
                      "ALTER TABLE customers DROP COLUMN IF EXISTS nickname")

    assert operation.rollback_sql == "ALTER TABLE customers DROP COLUMN IF EXISTS nickname"
