import json

import pytest
from django.urls import reverse

from migrations_app import workflow
from migrations_app.models import MigrationPlan, PlanStatus, SignOff
from tests.plans.conftest import SIMPLE_OPS


def urls_for(plan):
    op = plan.operations.first()
    return {
        "read": [reverse("plan_list"), reverse("plan_detail", args=[plan.pk]),
                 reverse("plan_detail", args=[plan.pk]) + "?tab=dependencies",
                 reverse("plan_detail", args=[plan.pk]) + "?tab=risk",
                 reverse("plan_detail", args=[plan.pk]) + "?tab=mitigation",
                 reverse("plan_detail", args=[plan.pk]) + "?tab=history",
                 reverse("plan_analysis_status", args=[plan.pk]), reverse("plan_queue")],
        "author_dba": [("get", reverse("plan_create")), ("get", reverse("plan_replace_sql", args=[plan.pk])),
                       ("get", reverse("plan_edit_details", args=[plan.pk])),
                       ("get", reverse("plan_operation_edit", args=[plan.pk, op.pk])),
                       ("post", reverse("plan_operation_add", args=[plan.pk])),
                       ("post", reverse("plan_operation_remove", args=[plan.pk, op.pk])),
                       ("post", reverse("plan_operation_move", args=[plan.pk, op.pk, "down"])),
                       ("post", reverse("plan_reopen", args=[plan.pk])),
                       ("post", reverse("plan_analyse", args=[plan.pk])),
                       ("post", reverse("plan_apply_mitigation", args=[plan.pk, 1]))],
        "signers": [("post", reverse("plan_sign_off", args=[plan.pk])),
                    ("post", reverse("plan_checklist", args=[plan.pk]))],
    }


@pytest.mark.django_db
def test_every_role_reads_plans_and_outsiders_do_not(plan, client_for, dba, manager, engineer, outsider):
    for url in urls_for(plan)["read"]:
        for user in (dba, manager, engineer):
            assert client_for(user).get(url).status_code == 200, (user.username, url)
        assert client_for(outsider).get(url).status_code == 403, url
        response = client_for(None).get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


@pytest.mark.django_db
def test_writing_endpoints_refuse_managers_engineers_outsiders_and_anonymous(plan, client_for, manager, engineer, outsider):
    before = (MigrationPlan.objects.get(pk=plan.pk).sql_hash, plan.operations.count())
    for method, url in urls_for(plan)["author_dba"]:
        for user in (manager, engineer, outsider):
            response = getattr(client_for(user), method)(url, {"sql": "SELECT 1"})
            assert response.status_code == 403, (user.username, url)
        assert getattr(client_for(None), method)(url).status_code == 302
    assert (MigrationPlan.objects.get(pk=plan.pk).sql_hash, plan.operations.count()) == before


@pytest.mark.django_db
def test_another_dba_cannot_edit_the_authors_plan(plan, client_for, other_dba):
    op = plan.operations.first()
    c = client_for(other_dba)
    assert c.post(reverse("plan_operation_remove", args=[plan.pk, op.pk])).status_code == 403
    assert c.get(reverse("plan_replace_sql", args=[plan.pk])).status_code == 403
    assert c.post(reverse("plan_operation_add", args=[plan.pk]), {"sql": "SELECT 1"}).status_code == 403
    assert plan.operations.count() == 1


@pytest.mark.django_db
def test_sign_off_endpoint_refuses_engineers_outsiders_and_anonymous(plan, analysed, client_for, engineer, outsider):
    analysed(plan, "HIGH")
    for method, url in urls_for(plan)["signers"]:
        for user in (engineer, outsider):
            assert client_for(user).post(url, {"decision": "approve"}).status_code == 403
        assert client_for(None).post(url, {"decision": "approve"}).status_code == 302
    assert not SignOff.objects.exists()


@pytest.mark.django_db
def test_author_approving_own_plan_by_post_gets_403_and_no_sign_off(plan, analysed, client_for, dba, django_user_model):
    from django.contrib.auth.models import Group

    analysed(plan, "HIGH")
    dba.groups.add(Group.objects.get_or_create(name="Manager")[0])  # even a DBA who is also a manager
    response = client_for(dba).post(reverse("plan_sign_off", args=[plan.pk]), {"decision": "approve", "comment": "mine"})
    assert response.status_code == 403
    assert not SignOff.objects.exists()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IN_REVIEW


@pytest.mark.django_db
def test_manager_approves_a_high_plan_through_the_page(plan, analysed, client_for, manager):
    analysed(plan, "HIGH")
    from migrations_app.gate import current_review_version

    response = client_for(manager).post(reverse("plan_sign_off", args=[plan.pk]),
                                        {"decision": "approve", "comment": "go", "version": current_review_version(plan)})
    assert response.status_code == 302
    record = SignOff.objects.get()
    assert (record.user, record.role, record.decision, record.sql_hash, record.risk_level) == \
        (manager, "Manager", "approve", plan.sql_hash, "HIGH")


@pytest.mark.django_db
def test_dba_creates_a_plan_from_sql_and_sees_the_operations(client_for, dba, target):
    response = client_for(dba).post(reverse("plan_create"), {
        "title": "Drop legacy status", "target": target.pk, "schema": "public", "description": "",
        "sql": "ALTER TABLE customers ADD COLUMN tier text;\nCREATE INDEX CONCURRENTLY customers_tier_idx ON customers (tier);"})
    plan = MigrationPlan.objects.get(title="Drop legacy status")
    assert response.status_code == 302 and response["Location"] == plan.get_absolute_url()
    ops = list(plan.operations.values_list("position", "type", "table", "rollback_sql"))
    assert [o[:3] for o in ops] == [(1, "ADD_COLUMN", "customers"), (2, "CREATE_INDEX", "customers")]
    assert "DROP COLUMN" in ops[0][3] and "DROP INDEX" in ops[1][3]
    page = client_for(dba).get(plan.get_absolute_url()).content.decode()
    assert "CREATE INDEX CONCURRENTLY customers_tier_idx" in page


@pytest.mark.django_db
def test_a_syntax_error_shows_the_line_and_saves_nothing(client_for, dba, target):
    response = client_for(dba).post(reverse("plan_create"), {
        "title": "Broken", "target": target.pk, "schema": "public",
        "sql": "ALTER TABLE customers ADD COLUMN a text;\nALTER TABLE customers DROP COLUMNN b;"})
    assert response.status_code == 200
    assert "line 2" in response.content.decode()
    assert not MigrationPlan.objects.exists()


@pytest.mark.django_db
def test_htmx_operation_add_returns_the_operations_fragment(plan, client_for, dba):
    response = client_for(dba).post(reverse("plan_operation_add", args=[plan.pk]),
                                    {"sql": "ALTER TABLE customers DROP COLUMN nickname", "rollback_sql": ""},
                                    HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="operations"' in body
    assert "DROP COLUMN nickname" in body and response["HX-Trigger"] == "plan-changed"
    assert plan.operations.count() == 2


@pytest.mark.django_db
def test_htmx_tab_request_returns_only_the_tab(plan, client_for, engineer):
    response = client_for(engineer).get(reverse("plan_detail", args=[plan.pk]) + "?tab=history", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="history"' in body and "<html" not in body and "plan.created" in body


@pytest.mark.django_db
def test_analysis_status_polls_while_running_and_stops_when_done(plan, client_for, dba, analysed):
    from migrations_app.models import AnalysisRun
    from tests.factories import AnalysisRunFactory

    AnalysisRunFactory(plan=plan, running=True, progress={"step": "dependencies of customers", "done": 2, "total": 5})
    body = client_for(dba).get(reverse("plan_analysis_status", args=[plan.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in body and "dependencies of customers" in body
    AnalysisRun.objects.all().delete()
    analysed(plan, "LOW")
    response = client_for(dba).get(reverse("plan_analysis_status", args=[plan.pk]) + "?was_active=1", HTTP_HX_REQUEST="true")
    run = AnalysisRun.objects.get()
    assert 'hx-trigger' not in response.content.decode() and "HX-Refresh" not in response
    assert json.loads(response["HX-Trigger"]) == {"job-finished": {"kind": "analysis", "id": run.pk, "status": "SUCCEEDED"}}


@pytest.mark.django_db
def test_queue_shows_high_plans_to_managers_but_not_to_the_author(plan, analysed, client_for, manager, dba):
    analysed(plan, "HIGH")
    assert plan.title in client_for(manager).get(reverse("plan_queue")).content.decode()
    assert plan.title not in client_for(dba).get(reverse("plan_queue")).content.decode()


@pytest.mark.django_db
def test_summary_partial_refreshes_header_and_gate_after_an_htmx_edit(plan, client_for, dba):
    c = client_for(dba)
    c.post(reverse("plan_operation_add", args=[plan.pk]), {"sql": "ALTER TABLE customers DROP COLUMN nickname"},
           HTTP_HX_REQUEST="true")
    body = c.get(reverse("plan_detail", args=[plan.pk]) + "?part=summary", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="plan-summary"' in body and "2 operations" in body and 'id="tab-body"' not in body
