"""The execution page follows a run and reloads once it ends, so its buttons and banner match."""

from migrations_app.models import Execution
from tests.factories import ExecutionFactory


def test_live_panel_announces_the_end_of_the_run_it_followed_instead_of_reloading_the_page(plan, dba, client_for):
    execution = ExecutionFactory(plan=plan, status=Execution.Status.SUCCEEDED)

    response = client_for(dba).get(f"/executions/{execution.pk}/progress/?was_active=1", HTTP_HX_REQUEST="true")

    assert "HX-Refresh" not in response
    assert f'"job-finished": {{"kind": "execution", "id": {execution.pk}, "status": "SUCCEEDED"}}' in response["HX-Trigger"]


def test_live_panel_of_a_running_migration_keeps_polling_without_reloading(plan, dba, client_for):
    execution = ExecutionFactory(plan=plan, status=Execution.Status.RUNNING)

    response = client_for(dba).get(f"/executions/{execution.pk}/progress/?was_active=1", HTTP_HX_REQUEST="true")

    assert "HX-Refresh" not in response and "HX-Trigger" not in response
    assert 'hx-trigger="every 1s"' in response.content.decode()
    assert "was_active=1" in response.content.decode()
