"""The staging copy page while a copy runs and once it is ready."""

import pytest

from tests.factories import StagingEnvironmentFactory, TargetDatabaseFactory


@pytest.fixture
def copy(db):
    return StagingEnvironmentFactory(
        staging_id="0123456789ab", target=TargetDatabaseFactory(name="shop-prod"), production_database="shop",
        progress={"tables_done": 9, "tables_total": 9, "rows_copied": 115269})


def test_progress_that_was_polling_reloads_the_page_when_the_copy_is_ready(copy, engineer, client_for):
    html = client_for(engineer).get(f"/staging/{copy.staging_id}/progress/?was_running=1",
                                    HTTP_HX_REQUEST="true").content.decode()

    assert 'hx-trigger="every 1s"' not in html
    assert 'hx-trigger="load"' in html and f'hx-get="/staging/{copy.staging_id}/"' in html


def test_progress_of_a_copy_already_ready_on_page_load_does_not_reload(copy, engineer, client_for):
    html = client_for(engineer).get(f"/staging/{copy.staging_id}/").content.decode()

    assert 'hx-trigger="load"' not in html
    assert "115,269 rows copied" in html
