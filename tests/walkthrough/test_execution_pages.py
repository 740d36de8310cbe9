"""The execution page follows a run and reloads once it ends, so its buttons and banner match."""

from migrations_app.models import Execution
from tests.factories import ExecutionFactory


def test_live_panel_reloads_the_page_when_the_run_it_followed_has_ended(plan, dba, client_for):
    execution = ExecutionFactory(plan=plan, status=Execution.Status.SUCCEEDED)

    response = client_for(dba).get(f"/executions/{execution.pk}/progress/?was_active=1", HTTP_HX_REQUEST="true")

    assert response["HX-Refresh"] == "true"


def test_live_panel_of_a_running_migration_keeps_polling_without_reloading(plan, dba, client_for):
    execution = ExecutionFactory(plan=plan, status=Execution.Status.RUNNING)

    response = client_for(dba).get(f"/executions/{execution.pk}/progress/?was_active=1", HTTP_HX_REQUEST="true")

    assert "HX-Refresh" not in response
    assert 'hx-trigger="every 1s"' in response.content.decode()
    assert "was_active=1" in response.content.decode()
