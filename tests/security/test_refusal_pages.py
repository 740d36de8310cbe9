"""A refused POST says nothing changed, and pages that answer HTMX with a fragment tell caches so."""

import pytest

from migrations_app.models import SignOff
from tests.factories import MigrationPlanFactory


@pytest.mark.django_db
def test_a_refused_post_says_nothing_was_changed_and_a_refused_get_does_not(dba, engineer, client_for):
    plan = MigrationPlanFactory(author=dba)
    client = client_for(engineer)
    response = client.post(f"/plans/{plan.pk}/sign-off/", {"decision": "approve", "comment": "forged"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Your role does not allow this." in page and "Nothing was changed." in page
    assert not SignOff.objects.exists()
    response = client.get(f"/plans/{plan.pk}/execute/")
    assert response.status_code == 403
    assert "Nothing was changed." not in response.content.decode()


@pytest.mark.django_db
def test_a_plan_tab_varies_on_hx_request_so_back_never_shows_the_fragment(dba, client_for):
    plan = MigrationPlanFactory(author=dba)
    client = client_for(dba)
    fragment = client.get(f"/plans/{plan.pk}/?tab=risk", HTTP_HX_REQUEST="true")
    whole = client.get(f"/plans/{plan.pk}/?tab=risk")
    assert "<html" not in fragment.content.decode() and "<html" in whole.content.decode()
    for response in (fragment, whole):
        assert "HX-Request" in response["Vary"], response["Vary"]
