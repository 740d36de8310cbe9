"""TOTP step-up (django-otp): approving a HIGH or CRITICAL plan and executing on a production
target need a code from the user's enrolled authenticator, typed in this session within the last
DATAFLOW_STEP_UP_MAX_AGE_SECONDS. The permission policy decides; the forms ask for the code."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from dataflow_site import step_up
from migrations_app import permissions
from migrations_app.models import Execution, RiskLevel, SignOff
from targets.models import AuditEvent
from tests.factories import MigrationPlanFactory, TargetDatabaseFactory, analyse, approved_plan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def step_up_on(settings):
    settings.DATAFLOW_STEP_UP_ROLES = None  # the default: DBAs and managers
    settings.DATAFLOW_STEP_UP_MAX_AGE_SECONDS = 600


def step_up_secret(device) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")


def enrol(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def code(device: TOTPDevice, steps_back: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0 + steps_back * device.step, digits=device.digits):0{device.digits}d}"


@pytest.fixture
def high_plan(dba):
    target = TargetDatabaseFactory(environment="production")
    return analyse(MigrationPlanFactory(author=dba, target=target, sql="ALTER TABLE t ADD COLUMN c int;"),
                   RiskLevel.HIGH)


def _approve(client, plan, decision="approve", **extra):
    from migrations_app.review_version import review_version
    from migrations_app.gate import current_analysis

    plan.refresh_from_db()
    version = review_version(plan, current_analysis(plan))
    return client.post(reverse("plan_sign_off", args=[plan.pk]),
                       {"decision": decision, "comment": "ok", "version": version, **extra}, follow=True)


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


# The role matrix ------------------------------------------------------------------------------

@pytest.mark.parametrize("level, needed", [(RiskLevel.LOW, False), (RiskLevel.MEDIUM, False),
                                           (RiskLevel.HIGH, True), (RiskLevel.CRITICAL, True)])
def test_who_needs_a_fresh_code_to_sign_off_by_role_and_risk_level(dba, other_dba, manager, engineer, outsider, level,
                                                                    needed):
    from django.contrib.auth.models import AnonymousUser

    plan = analyse(MigrationPlanFactory(author=dba, target=TargetDatabaseFactory(), sql="ALTER TABLE t ADD COLUMN c int;"),
                   level)
    people = {"dba": other_dba, "manager": manager, "engineer": engineer, "outsider": outsider,
              "anonymous": AnonymousUser()}
    answers = {name: permissions.needs_step_up(user, "sign_off", plan, SignOff.Decision.APPROVE)
               for name, user in people.items()}
    assert answers == {"dba": needed, "manager": needed, "engineer": False, "outsider": False, "anonymous": False}
    assert not permissions.needs_step_up(manager, "sign_off", plan, SignOff.Decision.REJECT)  # a rejection never does


@pytest.mark.parametrize("environment, needed", [("production", True), ("staging", False), ("development", False)])
def test_executing_needs_a_fresh_code_only_on_production_and_only_for_the_listed_roles(dba, manager, engineer, outsider,
                                                                                       environment, needed, settings):
    plan = MigrationPlanFactory(author=dba, target=TargetDatabaseFactory(environment=environment),
                                sql="ALTER TABLE t ADD COLUMN c int;")
    assert permissions.needs_step_up(dba, "execute", plan) is needed
    assert permissions.needs_step_up(engineer, "execute", plan) is False
    assert permissions.needs_step_up(outsider, "execute", plan) is False
    settings.DATAFLOW_STEP_UP_ROLES = ["Manager"]
    assert permissions.needs_step_up(dba, "execute", plan) is False
    assert permissions.needs_step_up(manager, "execute", plan) is needed


def test_engineers_outsiders_and_anonymous_users_are_refused_before_any_code_is_asked(high_plan, engineer, outsider,
                                                                                     client_for):
    assert _approve(client_for(engineer), high_plan).status_code == 403
    assert _approve(client_for(outsider), high_plan).status_code == 403
    anonymous = client_for(None).post(reverse("plan_sign_off", args=[high_plan.pk]), {"decision": "approve"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url
    assert not SignOff.objects.exists()


# The sign-off form ----------------------------------------------------------------------------

def test_a_manager_without_an_authenticator_is_told_to_enrol_and_nothing_is_recorded(high_plan, manager, client_for):
    client = client_for(manager)
    page = client.get(high_plan.get_absolute_url()).content.decode()
    assert "Enrol one on your profile page" in page
    response = _approve(client, high_plan)
    assert "you have none enrolled" in _messages(response)
    assert not SignOff.objects.exists()


def test_an_enrolled_manager_approves_with_the_current_code(high_plan, manager, client_for):
    device = enrol(manager)
    client = client_for(manager)
    assert f'name="{step_up.CODE_FIELD}"' in client.get(high_plan.get_absolute_url()).content.decode()
    response = _approve(client, high_plan, **{step_up.CODE_FIELD: code(device)})
    assert "Recorded: approve" in _messages(response)
    assert SignOff.objects.get().user == manager


def test_an_approval_without_a_code_is_refused(high_plan, manager, client_for):
    enrol(manager)
    response = _approve(client_for(manager), high_plan)
    assert "enter it in the form" in _messages(response)
    assert not SignOff.objects.exists()


def test_a_wrong_code_is_refused_and_said(high_plan, manager, client_for):
    device = enrol(manager)
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"
    response = _approve(client_for(manager), high_plan, **{step_up.CODE_FIELD: wrong})
    text = _messages(response)
    assert "was not accepted" in text and "enter it in the form" in text
    assert not SignOff.objects.exists()


def test_a_code_is_accepted_once(high_plan, manager, client_for):
    device = enrol(manager)
    current = code(device)
    first, second = client_for(manager), client_for(manager)
    assert step_up.CODE_FIELD and _approve(first, high_plan, **{step_up.CODE_FIELD: current}).status_code == 200
    SignOff.objects.all().delete()
    response = _approve(second, high_plan, **{step_up.CODE_FIELD: current})  # another session replays it
    assert "was not accepted" in _messages(response)
    assert not SignOff.objects.exists()


def test_a_stale_confirmation_is_refused_and_a_recent_one_needs_no_new_code(high_plan, manager, client_for):
    enrol(manager)
    client = client_for(manager)
    session = client.session
    session[step_up.SESSION_KEY] = (datetime.now(dt_timezone.utc) - timedelta(minutes=11)).timestamp()
    session.save()
    response = _approve(client, high_plan)
    assert "older than 10 minutes" in _messages(response)
    assert not SignOff.objects.exists()
    session[step_up.SESSION_KEY] = (datetime.now(dt_timezone.utc) - timedelta(minutes=9)).timestamp()
    session.save()
    assert "Recorded: approve" in _messages(_approve(client, high_plan))


def test_a_rejection_needs_no_code(high_plan, manager, client_for):
    enrol(manager)
    _approve(client_for(manager), high_plan, "reject")
    assert SignOff.objects.get().decision == SignOff.Decision.REJECT


def test_the_workflow_refuses_a_user_whose_session_never_confirmed(high_plan, manager):
    from migrations_app import workflow

    enrol(manager)
    with pytest.raises(permissions.WorkflowError, match="authenticator"):
        workflow.sign_off(high_plan, manager, SignOff.Decision.APPROVE, "from a script")
    assert not SignOff.objects.exists()


# Executions on production -----------------------------------------------------------------------

@pytest.fixture
def production_plan(dba):
    return approved_plan(dba, TargetDatabaseFactory(environment="production"), sql="ALTER TABLE t ADD COLUMN note text;")


def test_executing_on_production_needs_the_code_and_is_queued_with_it(production_plan, dba, client_for):
    device = enrol(dba)
    client = client_for(dba)
    url = reverse("execution_start", args=[production_plan.pk])
    assert f'name="{step_up.CODE_FIELD}"' in client.get(url).content.decode()
    refused = client.post(url, follow=True)
    assert "enter it in the form" in _messages(refused) and not Execution.objects.exists()
    client.post(url, {step_up.CODE_FIELD: code(device)})
    assert Execution.objects.get().status == Execution.Status.QUEUED  # the worker runs it after the commit


def test_a_dba_without_an_authenticator_cannot_execute_on_production(production_plan, dba, client_for):
    response = client_for(dba).post(reverse("execution_start", args=[production_plan.pk]), follow=True)
    assert "you have none enrolled" in _messages(response)
    assert not Execution.objects.exists()


# Enrolment ------------------------------------------------------------------------------------

def test_a_user_enrols_from_the_profile_page_with_the_qr_code_and_the_first_code(engineer, client_for):
    client = client_for(engineer)
    assert "Set up an authenticator app" in client.get(reverse("profile")).content.decode()
    assert not TOTPDevice.objects.exists()  # the page only reads
    client.post(reverse("authenticator_start"))
    page = client.get(reverse("profile")).content.decode()
    pending = TOTPDevice.objects.get(user=engineer, confirmed=False)
    assert "Scan this code" in page and "<svg" in page and step_up_secret(pending) in page
    client.post(reverse("authenticator_confirm"), {"totp_code": "000000" if code(pending) != "000000" else "111111"})
    assert not step_up.is_enrolled(engineer)
    # a failure slows the next try (django-otp's throttle, its own tests cover it): reset, not slept
    TOTPDevice.objects.filter(pk=pending.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    client.post(reverse("authenticator_confirm"), {"totp_code": code(pending)})
    assert step_up.is_enrolled(engineer)
    assert AuditEvent.objects.filter(verb="auth.authenticator_enrolled", object_id=str(engineer.pk)).exists()
    assert "Enrolled" in client.get(reverse("profile")).content.decode()
    assert step_up_secret(pending) not in client.get(reverse("profile")).content.decode()  # never shown again


def test_removing_the_authenticator_needs_a_current_code(manager, client_for):
    device = enrol(manager)
    client = client_for(manager)
    client.post(reverse("authenticator_remove"), {"totp_code": ""})
    assert step_up.is_enrolled(manager)
    client.post(reverse("authenticator_remove"), {"totp_code": code(device)})
    assert not step_up.is_enrolled(manager)
    assert AuditEvent.objects.filter(verb="auth.authenticator_removed").exists()


def test_the_profile_page_tells_a_listed_role_to_enrol(manager, engineer, client_for):
    assert "Your role needs an authenticator" in client_for(manager).get(reverse("profile")).content.decode()
    assert "Your role needs an authenticator" not in client_for(engineer).get(reverse("profile")).content.decode()


# Demo users (development) -----------------------------------------------------------------------

def test_demo_users_come_enrolled_with_the_secret_written_to_the_credentials_file(tmp_path, django_user_model):
    import base64
    import re

    from django.contrib.auth.models import Group

    from migrations_app.demo.authenticators import ensure_demo_authenticators

    for name, role in (("dba", "DBA"), ("manager", "Manager")):
        django_user_model.objects.create_user(name, password="x").groups.add(Group.objects.get_or_create(name=role)[0])
    credentials = tmp_path / "demo-credentials.txt"
    assert ensure_demo_authenticators(credentials, log=lambda _: None) == ["dba", "manager"]
    secret = re.search(r"dba, manager: ([A-Z2-7]+)", credentials.read_text()).group(1)
    device = TOTPDevice.objects.get(user__username="manager")
    assert base64.b32encode(device.bin_key).decode().rstrip("=") == secret
    assert ensure_demo_authenticators(credentials, log=lambda _: None) == []  # idempotent
    assert credentials.read_text().count("authenticator secret") == 1
