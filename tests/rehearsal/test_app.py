"""Rehearsals in the app: the gate's staging validation, the pages and who may use them, the task."""

from __future__ import annotations

import pytest

from migrations_app import workflow
from migrations_app.gate import evaluate_gate
from migrations_app.models import PlanStatus
from migrations_app.models import Rehearsal
from migrations_app.staging_validation import passed_validation
from migrations_app.tasks import rehearse_plan
from targets.models import AuditEvent
from staging_app.engines.clones import CloneRefused, create_clone
from staging_app.engines.guard import CleanupRefused, clone_marker_for, clone_name_for, drop_clone_database
from staging_app.models import StagingClone
from staging_app.registry import DjangoStagingRegistry
from tests.factories import RehearsalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rehearse(django_capture_on_commit_callbacks):
    """POST "Rehearse on staging"; the queued task (Q sync) runs when the request's transaction commits."""

    def post(client, plan, env, baselines=False, **headers):
        data = {"environment": env.staging_id}
        if baselines:
            data["measure_baselines"] = "on"
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/staging/plans/{plan.pk}/rehearse/", data, **headers)

    return post


def test_a_high_plan_with_a_manager_approval_is_approved_after_a_passed_rehearsal_of_its_exact_sql(
        rehearse, shop_plan, analysed, ready_copy, client_for, dba, manager):
    plan = analysed(shop_plan, "HIGH")
    workflow.sign_off(plan, manager, "approve", "fine once rehearsed")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IN_REVIEW
    assert passed_validation(plan, full=False) == (
        False, "no rehearsal of this SQL yet: rehearse it on a staging copy of shop")

    response = rehearse(client_for(dba), plan, ready_copy)  # Q sync: the task runs inside the request
    assert response.status_code == 302 and response["Location"] == plan.get_absolute_url()
    rehearsal = Rehearsal.objects.get()
    assert rehearsal.status == "PASSED" and rehearsal.rollback_verified, rehearsal.error
    assert rehearsal.sql_hash == plan.sql_hash and rehearsal.requested_by == dba
    assert rehearsal.statements[0]["lock_mode"] == "AccessExclusiveLock"
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    met, detail = passed_validation(plan, full=False)
    assert met and f"rehearsal #{rehearsal.pk} on {ready_copy.database_name}" in detail
    verbs = set(AuditEvent.objects.filter(object_type="migrationplan", object_id=str(plan.pk))
                .values_list("verb", flat=True))
    assert {"plan.rehearsal_requested", "plan.rehearsal_passed", "plan.approved"} <= verbs

    # Editing the SQL changes the hash: the rehearsal stops counting.
    operation = plan.operations.get()
    workflow.update_operation(plan, dba, operation.pk, sql="ALTER TABLE shop.orders ADD COLUMN memo text",
                              rollback_sql="ALTER TABLE shop.orders DROP COLUMN memo")
    plan.refresh_from_db()
    met, detail = passed_validation(plan, full=False)
    assert not met and "different version of the SQL" in detail
    analysed(plan, "HIGH")
    staging = next(r for r in evaluate_gate(plan).requirements if r.key == "staging")
    assert not staging.met


def test_a_critical_plan_needs_baselines_that_pass_as_well(rehearse, shop_plan, analysed, ready_copy, second_copy,
                                                           client_for, dba):
    plan = analysed(shop_plan, "CRITICAL")
    client = client_for(dba)
    rehearse(client, plan, ready_copy, baselines=False)
    without = Rehearsal.objects.get()
    assert without.status == "PASSED" and not without.validation
    assert passed_validation(plan, full=False)[0]
    met, detail = passed_validation(plan, full=True)
    assert not met and f"rehearsal #{without.pk} passed but its baselines are not measured" in detail

    rehearse(client, plan, second_copy, baselines=True)  # the first copy now holds the plan
    with_baselines = Rehearsal.objects.exclude(pk=without.pk).get()
    assert with_baselines.status == "PASSED", with_baselines.error
    assert with_baselines.baselines_before and with_baselines.baselines_after
    assert with_baselines.validation_status == "PASS", with_baselines.validation.get("recommendations")
    met, detail = passed_validation(plan, full=True)
    assert met and detail.endswith("baselines PASS") and f"#{with_baselines.pk}" in detail


def test_a_plan_without_operations_is_not_rehearsed(rehearse, dba, shop_target, ready_copy, client_for):
    empty = workflow.create_plan(dba, target=shop_target, title="Nothing yet", schema="shop")
    response = rehearse(client_for(dba), empty, ready_copy, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Rehearsal refused: the plan has no operations to rehearse" in response.content.decode()
    assert not Rehearsal.objects.exists()


def test_only_a_dba_may_rehearse_and_everyone_with_a_role_may_read(
        rehearse, shop_plan, ready_copy, client_for, dba, manager, engineer, outsider):
    for user in (manager, engineer, outsider):
        assert rehearse(client_for(user), shop_plan, ready_copy).status_code == 403
    anonymous = rehearse(client_for(None), shop_plan, ready_copy)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert not Rehearsal.objects.exists()
    assert client_for(dba).get(f"/staging/plans/{shop_plan.pk}/rehearse/").status_code == 405
    form = client_for(dba).get(f"/staging/plans/{shop_plan.pk}/rehearsals/").content.decode()
    assert "Rehearse on staging</button>" in form and ready_copy.staging_id in form
    assert rehearse(client_for(dba), shop_plan, ready_copy).status_code == 302
    rehearsal = Rehearsal.objects.get()
    pages = [f"/staging/rehearsals/{rehearsal.pk}/", f"/staging/rehearsals/{rehearsal.pk}/progress/",
             f"/staging/plans/{shop_plan.pk}/rehearsals/", f"/staging/{ready_copy.staging_id}/"]
    for url in pages:
        for user in (dba, manager, engineer):
            assert client_for(user).get(url).status_code == 200, (url, user)
        assert client_for(outsider).get(url).status_code == 403, url
        response = client_for(None).get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_the_result_shows_on_the_plan_fragment_and_the_staging_page_and_polling_stops(
        rehearse, shop_plan, ready_copy, client_for, dba, engineer):
    rehearse(client_for(dba), shop_plan, ready_copy)
    rehearsal = Rehearsal.objects.get()
    client = client_for(engineer)
    fragment = client.get(f"/staging/rehearsals/{rehearsal.pk}/progress/").content.decode()
    assert "hx-trigger" not in fragment and "ACCESS EXCLUSIVE" in fragment and "Projected production lock" in fragment
    assert rehearsal.digest_before[:16] in fragment and "verified" in fragment
    panel = client.get(f"/staging/plans/{shop_plan.pk}/rehearsals/").content.decode()
    assert f"Rehearsal #{rehearsal.pk}" in panel and "Rehearse on staging" not in panel  # engineers read only
    # the copy stays pristine (the rehearsal ran on a clone): it is offered again
    assert "Rehearse on staging" in client_for(dba).get(f"/staging/plans/{shop_plan.pk}/rehearsals/").content.decode()
    page = client.get(f"/staging/{ready_copy.staging_id}/").content.decode()
    assert "Rehearsals on this copy" in page and f"Rehearsal #{rehearsal.pk}" in page


def test_a_copy_serves_many_rehearsals_each_on_its_own_clone_dropped_after(
        rehearse, shop_plan, ready_copy, client_for, dba):
    client = client_for(dba)
    rehearse(client, shop_plan, ready_copy)
    rehearse(client, shop_plan, ready_copy)
    first, second = Rehearsal.objects.order_by("pk")
    assert first.status == second.status == "PASSED", (first.error, second.error)

    clones = list(StagingClone.objects.filter(environment=ready_copy).order_by("rehearsal_id"))
    assert [c.rehearsal_id for c in clones] == [first.pk, second.pk]
    assert all(c.dropped_at is not None and c.clone_seconds > 0 for c in clones)
    server = DjangoStagingRegistry().connections(ready_copy.staging_id)[1]
    with server.connect(autocommit=True) as conn:
        names = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
    assert ready_copy.database_name in names and not {c.database_name for c in clones} & names
    with server.for_database(ready_copy.database_name).connect() as conn:  # the copy stays as sampled
        assert conn.execute("SELECT count(*) FROM information_schema.columns "
                            "WHERE table_schema = 'shop' AND table_name = 'orders' AND column_name = 'note'"
                            ).fetchone()[0] == 0
    assert "This copy has served 2 rehearsals" in client.get(f"/staging/{ready_copy.staging_id}/").content.decode()
    assert "No ready staging copy" not in client.get(f"{shop_plan.get_absolute_url()}").content.decode()


def test_a_copy_changed_by_a_rehearsal_made_before_clones_is_not_rehearsed_again(
        rehearse, shop_plan, ready_copy, client_for, dba):
    legacy = RehearsalFactory(plan=shop_plan, environment=ready_copy, requested_by=dba, passed=True,
                              digest_after_forward="abc")
    response = rehearse(client_for(dba), shop_plan, ready_copy, HTTP_HX_REQUEST="true")
    assert f"was changed by rehearsal #{legacy.pk}" in response.content.decode()
    assert Rehearsal.objects.count() == 1


def test_a_copy_with_another_session_is_not_cloned_and_the_session_is_named(ready_copy):
    server = DjangoStagingRegistry().connections(ready_copy.staging_id)[1]
    with server.for_database(ready_copy.database_name).connect(application_name="someone-else") as holder:
        holder.execute("SELECT 1")
        pid = holder.info.backend_pid
        with pytest.raises(CloneRefused) as refused:
            create_clone(server, ready_copy.database_name, ready_copy.staging_id, 999, attempts=2, wait_seconds=0.1)
    assert f"pid {pid} (someone-else" in str(refused.value)
    with server.connect(autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s",
                            (clone_name_for(ready_copy.staging_id, 999),)).fetchone()[0] == 0


def test_the_guard_drops_a_clone_only_with_its_own_name_and_marker(ready_copy):
    server = DjangoStagingRegistry().connections(ready_copy.staging_id)[1]
    clone, _seconds = create_clone(server, ready_copy.database_name, ready_copy.staging_id, 998)
    with pytest.raises(CleanupRefused):
        drop_clone_database(server, ready_copy.database_name, ready_copy.staging_id, 998)  # the copy itself
    with pytest.raises(CleanupRefused):
        drop_clone_database(server, clone, ready_copy.staging_id, 997)
    with server.connect(autocommit=True) as conn:
        conn.execute(f'COMMENT ON DATABASE "{clone}" IS \'not ours\'')
    with pytest.raises(CleanupRefused):
        drop_clone_database(server, clone, ready_copy.staging_id, 998)
    with server.connect(autocommit=True) as conn:
        conn.execute(f'COMMENT ON DATABASE "{clone}" IS \'{clone_marker_for(ready_copy.staging_id, 998)}\'')
    assert drop_clone_database(server, clone, ready_copy.staging_id, 998) == "dropped"


def test_the_progress_fragment_polls_while_the_rehearsal_runs(shop_plan, ready_copy, client_for, engineer, dba):
    running = RehearsalFactory(plan=shop_plan, environment=ready_copy, requested_by=dba, status="RUNNING",
                               progress={"phase": "forward", "step": 3, "steps": 6, "statement": 1, "statements": 1})
    fragment = client_for(engineer).get(f"/staging/rehearsals/{running.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "statement 1 / 1" in fragment


def test_a_second_delivery_of_the_task_does_nothing(rehearse, shop_plan, ready_copy, client_for, dba):
    rehearse(client_for(dba), shop_plan, ready_copy)
    rehearsal = Rehearsal.objects.get()
    finished_at, events = rehearsal.finished_at, AuditEvent.objects.count()
    assert rehearse_plan(rehearsal.pk) == "already taken"
    rehearsal.refresh_from_db()
    assert rehearsal.finished_at == finished_at and AuditEvent.objects.count() == events


def test_a_rehearsal_requested_before_an_edit_refuses_to_run_the_new_sql(shop_plan, ready_copy, dba):
    rehearsal = RehearsalFactory(plan=shop_plan, sql_hash="0" * 64, environment=ready_copy, requested_by=dba)
    assert rehearse_plan(rehearsal.pk) == "failed"
    rehearsal.refresh_from_db()
    assert rehearsal.status == "FAILED" and "SQL changed after the rehearsal was requested" in rehearsal.error
