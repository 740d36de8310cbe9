"""The staging copy page while a copy runs and once it is ready."""

import pytest

from tests.factories import StagingEnvironmentFactory, TargetDatabaseFactory


@pytest.fixture
def copy(db):
    return StagingEnvironmentFactory(
        staging_id="0123456789ab", target=TargetDatabaseFactory(name="shop-prod"), production_database="shop",
        progress={"tables_done": 9, "tables_total": 9, "rows_copied": 115269})


def test_progress_that_was_polling_announces_the_ready_copy_and_the_result_panel_refreshes_on_it(
        copy, engineer, client_for):
    response = client_for(engineer).get(f"/staging/{copy.staging_id}/progress/?was_active=1", HTTP_HX_REQUEST="true")

    assert 'hx-trigger="every 1s"' not in response.content.decode() and "HX-Refresh" not in response
    assert '"job-finished": {"kind": "staging"' in response["HX-Trigger"]
    page = client_for(engineer).get(f"/staging/{copy.staging_id}/").content.decode()
    assert f'hx-get="/staging/{copy.staging_id}/?part=result" hx-trigger="job-finished from:body"' in page


def test_progress_of_a_copy_already_ready_on_page_load_does_not_reload(copy, engineer, client_for):
    html = client_for(engineer).get(f"/staging/{copy.staging_id}/").content.decode()

    assert 'hx-trigger="load"' not in html
    assert "115,269 rows copied" in html
