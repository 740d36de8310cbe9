"""The sign-off form offers only decisions that count at the plan's level, goes once you signed,
names what the gate misses (the checklist, with a link), and a failed rehearsal of this SQL is
shown before anyone approves, who must then say so explicitly."""

import pytest

from migrations_app import permissions, workflow
from migrations_app.models import PlanStatus, Rehearsal, RiskLevel, SignOff
from targets.models import AuditEvent, TargetDatabase
from tests.factories import MigrationPlanFactory, RehearsalFactory, TargetDatabaseFactory, analyse


@pytest.fixture
def plan_at(dba):
    targets = {}

    def make(level, environment=TargetDatabase.Environment.DEVELOPMENT):
        if environment not in targets:
            targets[environment] = TargetDatabaseFactory(name="shop" if not targets else f"shop-{environment}",
                                                         environment=environment)
        plan = MigrationPlanFactory(author=dba, target=targets[environment], title=f"A {level} plan")
        return analyse(plan, level)
    return make


def _page(client, plan):
    return client.get(plan.get_absolute_url()).content.decode()


def test_a_manager_is_not_offered_approve_on_a_medium_plan_and_is_told_what_it_needs(plan_at, manager, client_for):
    plan = plan_at(RiskLevel.MEDIUM)

    assert [d for d, _ in permissions.sign_off_decisions(manager, plan)] == ["reject"]
    page = _page(client_for(manager), plan)
    assert 'value="approve"' not in page and 'value="reject"' in page
    assert "counts for nothing on a MEDIUM plan: it needs review sign-off by a DBA other than the author" in page


def test_the_server_refuses_an_approval_that_would_count_for_nothing(plan_at, manager, client_for):
    plan = plan_at(RiskLevel.MEDIUM)
    version = client_for(manager).get(plan.get_absolute_url()).context["review_version"]

    response = client_for(manager).post(f"/plans/{plan.pk}/sign-off/", {"decision": "approve", "version": version},
                                        follow=True)

    assert not SignOff.objects.filter(plan=plan).exists()
    assert "counts for nothing on a MEDIUM plan" in response.content.decode()


def test_a_dba_reviewer_is_offered_review_on_medium_and_only_reject_on_high(plan_at, other_dba):
    assert [d for d, _ in permissions.sign_off_decisions(other_dba, plan_at(RiskLevel.MEDIUM))] == ["review", "reject"]
    assert [d for d, _ in permissions.sign_off_decisions(other_dba, plan_at(RiskLevel.HIGH))] == ["reject"]


def test_the_buttons_are_gone_after_signing_and_the_page_says_so(plan_at, other_dba, client_for):
    plan = plan_at(RiskLevel.MEDIUM)
    client = client_for(other_dba)
    version = client.get(plan.get_absolute_url()).context["review_version"]

    client.post(f"/plans/{plan.pk}/sign-off/", {"decision": "review", "version": version})

    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    page = _page(client, plan)
    assert 'name="decision"' not in page
    assert "You have already signed off this version of the plan." in page


def test_the_critical_gate_line_says_the_checklist_is_missing_and_links_it(plan_at, manager, client_for):
    plan = plan_at(RiskLevel.CRITICAL, TargetDatabase.Environment.PRODUCTION)
    RehearsalFactory(plan=plan, full=True)
    workflow.sign_off(plan, manager, SignOff.Decision.APPROVE, "ok")

    page = _page(client_for(manager), plan)

    assert "What is missing:</strong> <a href=\"?tab=risk#checklist\">Pre-migration checklist" in page
    assert "not complete: CRITICAL plans on the production target shop need it" in page
    assert 'id="checklist"' in client_for(manager).get(f"{plan.get_absolute_url()}?tab=risk").content.decode()


def test_a_failed_rehearsal_of_a_high_plan_is_shown_and_approving_needs_an_acknowledgement(plan_at, manager,
                                                                                           client_for):
    plan = plan_at(RiskLevel.HIGH)
    failed = RehearsalFactory(plan=plan, status=Rehearsal.Status.FAILED, error="cannot drop column legacy_status "
                              "because other objects depend on it")
    client = client_for(manager)
    page = _page(client, plan)
    assert f"The latest rehearsal of this SQL failed</strong> (#{failed.pk}" in page
    assert "because other objects depend on it" in page
    assert "I approve despite the failed rehearsal" in page
    version = client.get(plan.get_absolute_url()).context["review_version"]

    refused = client.post(f"/plans/{plan.pk}/sign-off/", {"decision": "approve", "version": version}, follow=True)
    assert "Nothing was recorded: rehearsal" in refused.content.decode()
    assert not SignOff.objects.filter(plan=plan).exists()

    client.post(f"/plans/{plan.pk}/sign-off/", {"decision": "approve", "version": version,
                                                 "acknowledge_failed_rehearsal": "on"})
    assert SignOff.objects.filter(plan=plan, decision="approve").count() == 1
    event = AuditEvent.objects.filter(verb="plan.signed_off.approve").latest("id")
    assert event.data["acknowledged_failed_rehearsal"] == failed.pk


def test_the_queue_shows_the_rehearsal_state_of_each_plan(plan_at, manager, client_for):
    failing, fresh = plan_at(RiskLevel.HIGH), plan_at(RiskLevel.HIGH)
    RehearsalFactory(plan=failing, status=Rehearsal.Status.FAILED)

    page = client_for(manager).get("/plans/queue/").content.decode()

    assert "Rehearsal of this SQL" in page
    assert 'class="rehearsal-state failed"' in page and 'class="rehearsal-state not-rehearsed"' in page


def test_a_rolled_back_plan_is_reopened_and_is_not_offered_a_rehearsal_before(plan_at, dba, client_for):
    plan = plan_at(RiskLevel.LOW)
    plan.status = PlanStatus.ROLLED_BACK
    plan.save(update_fields=["status"])
    refusal = permissions.can_rehearse(dba, plan)
    assert not refusal and refusal.reason == "a plan that is rolled back is not rehearsed; reopen it first"

    client_for(dba).post(f"/plans/{plan.pk}/reopen/")

    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    assert permissions.can_rehearse(dba, plan)
