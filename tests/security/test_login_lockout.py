"""Failed sign-ins lock the account (django-axes): the right password is refused until the
cool-off ends, other accounts sign in as before, and the lockout is audited once."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from targets.models import AuditEvent

LOGIN = "/accounts/login/"


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return settings


def _sign_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_wrong_passwords_up_to_the_limit_lock_the_account_and_refuse_the_right_password(client, dba, limits):
    for _ in range(2):
        response = _sign_in(client, dba.username, "wrong")
        assert response.status_code == 200 and "did not match" in response.content.decode()
    locking = _sign_in(client, dba.username, "wrong")
    assert locking.status_code == 429
    assert "locked for 15 minutes" in locking.content.decode()
    refused = _sign_in(client, dba.username, "pw-" + dba.username)
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("dashboard")).status_code == 302  # still sent to the login page


def test_the_lockout_page_is_the_login_form_with_the_message(client, dba, limits):
    for _ in range(3):
        _sign_in(client, dba.username, "wrong")
    page = _sign_in(client, dba.username, "wrong").content.decode()
    assert 'id="lockout"' in page and 'name="password"' in page
    assert "did not match" not in page


def test_other_users_sign_in_while_one_account_is_locked(client, dba, other_dba, limits):
    for _ in range(3):
        _sign_in(client, dba.username, "wrong")
    response = _sign_in(client, other_dba.username, "pw-" + other_dba.username)
    assert response.status_code == 302 and response.url == reverse("dashboard")


def test_the_right_password_works_again_after_the_cool_off(client, dba, limits):
    for _ in range(3):
        _sign_in(client, dba.username, "wrong")
    assert _sign_in(client, dba.username, "pw-" + dba.username).status_code == 429
    # the cool-off has passed: the attempts' clock is moved back rather than the test sleeping
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    response = _sign_in(client, dba.username, "pw-" + dba.username)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(dba.pk)


def test_a_successful_sign_in_resets_the_failure_count(client, dba, limits):
    for _ in range(2):
        _sign_in(client, dba.username, "wrong")
    assert _sign_in(client, dba.username, "pw-" + dba.username).status_code == 302
    client.logout()
    for _ in range(2):
        assert _sign_in(client, dba.username, "wrong").status_code == 200


def test_the_lockout_is_audited_once_with_the_username_and_never_the_password(client, dba, limits):
    for _ in range(3):
        _sign_in(client, dba.username, "wrong-secret")
    for _ in range(3):
        _sign_in(client, dba.username, "pw-" + dba.username)
    events = list(AuditEvent.objects.filter(verb="auth.locked_out"))
    assert len(events) == 1
    assert events[0].data["username"] == dba.username and events[0].data["failures"] == 3
    assert events[0].data["locked_until"]
    assert "wrong-secret" not in str(events[0].data) and "pw-" not in str(events[0].data)
