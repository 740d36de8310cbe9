"""A sign-off binds what the signer saw: forward and rollback SQL, the target's connection
identity, and the analysis. A page showing another version cannot sign this one; a repointed
target voids the sign-offs of its open plans."""

import re

import pytest
from django.urls import reverse

from migrations_app import gate, workflow
from migrations_app.models import PlanStatus, SignOff
from targets.models import AuditEvent, TargetDatabase
from tests.factories import AnalysisRunFactory, TargetDatabaseFactory
from tests.plans.conftest import SIMPLE_OPS

DELETE_ORDERS = {"type": "DELETE", "schema_name": "public", "table": "orders", "column": "", "sql": "DELETE FROM orders",
                 "rollback_sql": "", "rollback_note": "", "line": 2}


def version_on_page(client, plan) -> str:
    body = client.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    match = re.search(r'name="version" value="([0-9a-f]{64})"', body)
    assert match, "the sign-off form carries no version"
    return match.group(1)


def sign(client, plan, decision, version, comment=""):
    return client.post(reverse("plan_sign_off", args=[plan.pk]),
                       {"decision": decision, "comment": comment, "version": version}, follow=True)


def edit_target(client, target, **changes):
    data = {"name": target.name, "environment": target.environment, "host": target.host, "port": target.port,
            "dbname": target.dbname, "user": target.user, "password": "", "sslmode": target.sslmode,
            "staging_host": "", "staging_port": "", "notes": target.notes}
    data.update(changes)
    return client.post(reverse("target_edit", args=[target.pk]), data)


@pytest.mark.django_db
def test_a_review_from_a_page_of_the_earlier_version_does_not_approve_the_replaced_sql(plan, analysed, client_for,
                                                                                     dba, other_dba):
    analysed(plan, "MEDIUM")
    reviewer = client_for(other_dba)
    shown = version_on_page(reviewer, plan)
    # While the reviewer reads, the author appends a DELETE and has it analysed again.
    workflow.replace_operations(plan, dba, [SIMPLE_OPS[0], DELETE_ORDERS])
    analysed(plan, "MEDIUM")

    response = sign(reviewer, plan, "review", shown)
    assert "This page showed an earlier version of the plan" in response.content.decode()
    assert not SignOff.objects.exists()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IN_REVIEW

    current = version_on_page(reviewer, plan)
    assert current != shown
    sign(reviewer, plan, "review", current)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


@pytest.mark.django_db
def test_a_sign_off_post_without_a_version_is_refused(plan, analysed, client_for, manager):
    analysed(plan, "HIGH")
    response = client_for(manager).post(reverse("plan_sign_off", args=[plan.pk]), {"decision": "approve"}, follow=True)
    assert "This page showed an earlier version" in response.content.decode()
    assert not SignOff.objects.exists()


@pytest.mark.django_db
def test_a_sign_off_records_the_version_target_and_analysis_it_binds(plan, analysed, client_for, manager, target):
    analysed(plan, "HIGH")
    sign(client_for(manager), plan, "approve", version_on_page(client_for(manager), plan), "go")
    record = SignOff.objects.get()
    analysis = gate.current_analysis(plan)
    assert record.review_hash == gate.current_review_version(plan)
    assert record.analysis == analysis
    assert record.target_identity == {"host": target.host, "port": target.port, "dbname": target.dbname,
                                      "user": target.user, "schema": "public"}
    event = AuditEvent.objects.get(verb="plan.signed_off.approve")
    assert event.data["review_hash"] == record.review_hash and event.data["target"] == record.target_identity


@pytest.mark.django_db
def test_changing_only_the_rollback_sql_changes_the_version_to_sign(plan, analysed, dba):
    analysed(plan, "MEDIUM")
    before = gate.current_review_version(plan)
    op = plan.operations.get()
    workflow.update_operation(plan, dba, op.pk, rollback_sql="SELECT 1")
    analysed(plan, "MEDIUM")
    assert gate.current_review_version(plan) != before


@pytest.mark.django_db
def test_analysing_again_makes_an_earlier_approval_stop_counting(plan, analysed, manager):
    analysed(plan, "HIGH")
    workflow.sign_off(plan, manager, "approve", "fine")
    assert not gate.evaluate_gate(plan).missing[0].key == "manager_approval"
    analysed(plan, "HIGH")
    approval = next(r for r in gate.evaluate_gate(plan).requirements if r.key == "manager_approval")
    assert not approval.met
    assert "1 earlier sign-off no longer counts: the plan was analysed again" in approval.detail


@pytest.mark.django_db
def test_editing_the_targets_database_voids_sign_offs_and_returns_open_plans_to_draft(plan, analysed, client_for,
                                                                                     dba, other_dba, target):
    analysed(plan, "MEDIUM")
    workflow.sign_off(plan, other_dba, "review")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    elsewhere = TargetDatabaseFactory()
    untouched = workflow.create_plan(dba, target=elsewhere, title="Elsewhere", operations=SIMPLE_OPS)
    analysed(untouched, "MEDIUM")
    workflow.sign_off(untouched, other_dba, "review")

    response = edit_target(client_for(dba), target, dbname="orders_archive", password="typed-again")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.risk_level) == (PlanStatus.DRAFT, "")
    record = SignOff.objects.get(plan=plan)
    assert record.voided and "connection changed" in record.voided_reason
    event = AuditEvent.objects.get(verb="plan.target_repointed", object_id=str(plan.pk))
    assert event.data["from"] == PlanStatus.APPROVED and event.data["sign_offs_voided"] == 1
    assert event.data["changes"]["dbname"] == {"from": "postgres", "to": "orders_archive"}
    changed = AuditEvent.objects.get(verb="target.changed", object_id=str(target.pk))
    assert changed.data["plans_returned_to_draft"] == [plan.pk]
    untouched.refresh_from_db()
    assert untouched.status == PlanStatus.APPROVED and not SignOff.objects.get(plan=untouched).voided


@pytest.mark.django_db
def test_editing_a_target_without_touching_its_connection_keeps_the_approval(plan, analysed, client_for, dba,
                                                                           other_dba, target):
    analysed(plan, "MEDIUM")
    workflow.sign_off(plan, other_dba, "review")
    assert edit_target(client_for(dba), target, notes="owned by the billing team").status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and gate.executable(plan) == (True, "")


@pytest.mark.django_db
def test_a_target_repointed_by_hand_fails_the_gate_and_the_executors_recheck(plan, analysed, other_dba, target):
    analysed(plan, "MEDIUM")
    workflow.sign_off(plan, other_dba, "review")
    plan.refresh_from_db()
    assert gate.executable(plan) == (True, "")
    TargetDatabase.objects.filter(pk=target.pk).update(dbname="another_database")  # no view, no voiding
    plan.refresh_from_db()
    ok, reason = gate.executable(plan)
    assert not ok and "Analysis of the current SQL" in reason


@pytest.mark.django_db
def test_a_sign_off_row_forged_to_the_current_version_still_does_not_count_for_another_target(plan, analysed,
                                                                                             other_dba, target):
    analysed(plan, "MEDIUM")
    workflow.sign_off(plan, other_dba, "review")
    TargetDatabase.objects.filter(pk=target.pk).update(host="10.9.9.9")
    plan.refresh_from_db()
    # An analysis of the new identity exists, and the sign-off's hash is copied from the page.
    AnalysisRunFactory(plan=plan, level="MEDIUM", report={"risk": {}})
    SignOff.objects.filter(plan=plan).update(review_hash=gate.current_review_version(plan),
                                             analysis=gate.current_analysis(plan))
    review = next(r for r in gate.evaluate_gate(plan).requirements if r.key == "dba_review")
    assert not review.met
    assert "target's host, port, database, user or schema changed" in review.detail


def test_a_plan_whose_approval_went_stale_is_back_in_the_managers_queue(plan, analysed, manager):
    from migrations_app.views.plans import awaiting_sign_off

    analysed(plan, "HIGH")
    assert plan in awaiting_sign_off(manager)
    workflow.sign_off(plan, manager, "approve", "fine", version=gate.current_review_version(plan))
    assert plan not in awaiting_sign_off(manager)
    analysed(plan, "HIGH")  # the approval no longer binds the current version
    assert plan in awaiting_sign_off(manager)
