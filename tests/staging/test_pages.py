"""Staging pages: who may see and do what, the create flow with its progress fragment, cleanup."""

from __future__ import annotations

import pytest

from staging_app.models import StagingEnvironment
from staging_app.registry import manager_for
from targets.models import TargetDatabase
from tests.staging.conftest import drop_leftover_copies

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def target(source_db):
    yield TargetDatabase.objects.create(name="shop", host=source_db.host, port=source_db.port,
                                        dbname=source_db.dbname, user=source_db.user)
    drop_leftover_copies(StagingEnvironment.objects.values_list("staging_id", flat=True))


def test_readers_see_the_list_and_outsiders_and_anonymous_do_not(client_for, engineer, outsider):
    assert client_for(engineer).get("/staging/").status_code == 200
    assert client_for(outsider).get("/staging/").status_code == 403
    response = client_for(None).get("/staging/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_only_a_dba_may_create_or_clean_up(client_for, engineer, manager, target):
    env = manager_for(target).create_staging_environment(target.connection(), 0.1)
    for user in (engineer, manager):
        client = client_for(user)
        assert client.post("/staging/new/", {"target": target.pk, "data_sample_size": 0.1}).status_code == 403
        assert client.post(f"/staging/{env.staging_id}/cleanup/").status_code == 403
    assert StagingEnvironment.objects.get(staging_id=env.staging_id).status == "CREATING"


def test_a_dba_creates_a_masked_copy_and_watches_it_finish(client_for, dba, target, django_capture_on_commit_callbacks):
    client = client_for(dba)
    with django_capture_on_commit_callbacks(execute=True):  # the copy is queued once the request commits
        response = client.post("/staging/new/", {
            "target": target.pk, "data_sample_size": "0.1", "tables_filter": "shop.order_items, shop.customers",
            "masking_preset": "custom", "masking_rules": "customers.email fake_email\ncustomers.full_name fixed Jane Doe"})
    env = StagingEnvironment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staging/{env.staging_id}/"
    # Q_CLUSTER sync: the replication task ran when the request committed.
    assert env.status == "READY" and env.created_by == dba
    assert env.tables_filter == ["shop.order_items", "shop.customers"]
    assert env.masking_rules["customers.full_name"] == {"strategy": "fixed", "value": "Jane Doe"}
    page = client.get(f"/staging/{env.staging_id}/").content.decode()
    assert "shop.order_items" in page and "fake_email" in page
    fragment = client.get(f"/staging/{env.staging_id}/progress/").content.decode()
    assert 'aria-valuenow="100"' in fragment and "hx-trigger" not in fragment  # polling stops when done


def test_the_progress_fragment_keeps_polling_while_the_copy_runs(client_for, engineer, target):
    env = manager_for(target).create_staging_environment(target.connection(), 0.1)
    StagingEnvironment.objects.filter(staging_id=env.staging_id).update(
        status="REPLICATING", progress={"phase": "copying", "tables_done": 3, "tables_total": 6, "rows_copied": 120})
    fragment = client_for(engineer).get(f"/staging/{env.staging_id}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and 'aria-valuenow="50"' in fragment and "120 rows copied" in fragment


def test_the_limit_is_shown_on_the_form(client_for, dba, target):
    for _ in range(10):  # the development preset allows 10 live copies
        manager_for(target).create_staging_environment(target.connection(), 0.1)
    response = client_for(dba).post("/staging/new/", {"target": target.pk, "data_sample_size": "0.1",
                                                      "masking_preset": "none"})
    assert response.status_code == 200 and "Maximum staging environments exceeded" in response.content.decode()


def test_cleanup_asks_for_confirmation_then_drops_the_copy(client_for, dba, target):
    env = manager_for(target).create_staging_environment(target.connection(), 0.1)
    client = client_for(dba)
    confirm = client.get(f"/staging/{env.staging_id}/cleanup/")
    assert confirm.status_code == 200 and env.database_name in confirm.content.decode()
    assert StagingEnvironment.objects.get(staging_id=env.staging_id).status == "CREATING"
    response = client.post(f"/staging/{env.staging_id}/cleanup/", follow=True)
    assert "Cleanup SUCCESS" in response.content.decode()
    assert StagingEnvironment.objects.get(staging_id=env.staging_id).status == "CLEANED"


def test_a_copy_uses_the_targets_saved_masking_rules(client_for, dba, engineer, target,
                                                    django_capture_on_commit_callbacks):
    client = client_for(dba)
    response = client.post(f"/staging/masking/{target.pk}/", {"rules": "customers.email fake_email\ncustomers.full_name fixed Redacted"})
    assert response.status_code == 302
    assert engineer and client_for(engineer).post(f"/staging/masking/{target.pk}/", {"rules": ""}).status_code == 403
    assert "customers.full_name fixed Redacted" in client_for(engineer).get(f"/staging/masking/{target.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/staging/new/", {"target": target.pk, "data_sample_size": "0.1", "masking_preset": "target"})
    env = StagingEnvironment.objects.get()
    assert env.masking_rules == {"customers.email": {"strategy": "fake_email"}, "customers.full_name": {"strategy": "fixed", "value": "Redacted"}}
    assert env.status == "READY", env.error
    with target.connection().for_database(env.database_name).connect() as conn:
        names = conn.execute("SELECT count(*) FILTER (WHERE full_name <> 'Redacted'), count(*) FROM shop.customers").fetchone()
    assert names[0] == 0 and names[1] > 0


def test_a_target_without_saved_rules_never_copies_unmasked_by_default(client_for, dba, target):
    response = client_for(dba).post("/staging/new/", {"target": target.pk, "data_sample_size": "0.1",
                                                      "masking_preset": "target"})
    assert response.status_code == 200 and "has no saved masking rules" in response.content.decode()
    assert not StagingEnvironment.objects.exists()


def test_invalid_masking_rules_are_refused_with_the_line(client_for, dba, target):
    response = client_for(dba).post(f"/staging/masking/{target.pk}/", {"rules": "customers.email scramble"})
    assert response.status_code == 200 and "scramble" in response.content.decode()


def test_the_new_copy_form_preselects_the_only_target(dba, client_for):
    from tests.factories import TargetDatabaseFactory

    target = TargetDatabaseFactory(name="only-one")
    page = client_for(dba).get("/staging/new/").content.decode()
    assert f'<option value="{target.pk}" selected>' in page


def test_a_copy_being_made_says_not_ready_yet_instead_of_serving_0_rehearsals(client_for, engineer, target):
    env = manager_for(target).create_staging_environment(target.connection(), 0.1)
    client = client_for(engineer)
    for status in ("CREATING", "REPLICATING"):
        StagingEnvironment.objects.filter(staging_id=env.staging_id).update(status=status)
        page = client.get(f"/staging/{env.staging_id}/").content.decode()
        assert "Not ready yet" in page and "served 0" not in page
        assert f"/staging/{env.staging_id}/?part=served" in page  # refreshes itself when the copy is made
    StagingEnvironment.objects.filter(staging_id=env.staging_id).update(status="READY")
    fragment = client.get(f"/staging/{env.staging_id}/", {"part": "served"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'id="staging-served"' in fragment
    assert "This copy has served 0 rehearsals." in fragment and "hx-trigger" not in fragment
    StagingEnvironment.objects.filter(staging_id=env.staging_id).update(status="ERROR")
    page = client.get(f"/staging/{env.staging_id}/").content.decode()
    assert "served 0" not in page and "it serves no rehearsals" in page
