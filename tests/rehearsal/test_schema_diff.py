"""A rehearsal's schema diff on its staging clone: the objects the plan changed, with their
definitions, and whether the rollback's diff against the schema before the plan is empty."""

from __future__ import annotations

import pytest

from migrations_app.models import Rehearsal

pytestmark = pytest.mark.django_db


def test_a_rehearsal_page_shows_the_plans_diff_and_that_the_rollback_restored_the_schema(
        shop_plan, ready_copy, client_for, dba, engineer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(dba).post(f"/staging/plans/{shop_plan.pk}/rehearse/", {"environment": ready_copy.staging_id})
    rehearsal = Rehearsal.objects.get()
    assert rehearsal.status == "PASSED", rehearsal.error
    forward = rehearsal.forward_result["schema_diff"]["changes"]
    assert [(c["kind"], c["name"], c["change"]) for c in forward] == [("column", "shop.orders.note", "added")]
    assert forward[0]["after"].startswith("shop.orders.note: note text")
    assert rehearsal.rollback_result["schema_diff"] == {"changes": []}
    assert rehearsal.rollback_result["schema_diff_reference"] == "before the migration"

    page = client_for(engineer).get(f"/staging/rehearsals/{rehearsal.pk}/").content.decode()
    assert "Schema diff of the plan" in page and "shop.orders.note: note text" in page
    assert "Rollback diff against the schema before the plan: empty, the schema was restored." in page
