"""The development error page (DATAFLOW_DEBUG is on by default) shows settings, the request's
environment and its POST data: none of them may show a target password, the Slack webhook URL,
the PagerDuty routing key or the app database's URL."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

PASSWORD = "Zq7-target-pw-Xv93kT"
WEBHOOK = "http://hooks.example.com/services/T0/B0/slackHookToken4Rw8Yp"
ROUTING_KEY = "pdRoutingKey5Tm2Lq"
DATABASE_URL = "postgresql://app:appDbPw8Kc@db.example.com:5432/dataflow"


@pytest.fixture
def failing_audit(monkeypatch):
    """A fault after the form is read: the audit write fails, so the request ends in a 500."""
    from targets.models import AuditEvent

    def fail(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(AuditEvent, "record", fail)


def test_the_debug_error_page_of_a_target_form_shows_no_secret(settings, dba, failing_audit):
    settings.DEBUG = True
    settings.DATAFLOW_SLACK_WEBHOOK_URL = WEBHOOK
    settings.DATAFLOW_PAGERDUTY_ROUTING_KEY = ROUTING_KEY
    settings.DATABASE_URL = DATABASE_URL
    client = Client(raise_request_exception=False)
    client.force_login(dba)
    # the environment of a runserver/gunicorn request carries the process's environment variables
    environ = {"DATAFLOW_SLACK_WEBHOOK_URL": WEBHOOK, "DATABASE_URL": DATABASE_URL,
               "DATAFLOW_PAGERDUTY_ROUTING_KEY": ROUTING_KEY}
    response = client.post(reverse("target_add"), {
        "name": "crash", "environment": "development", "host": "127.0.0.1", "port": 5432, "dbname": "postgres",
        "user": "postgres", "password": PASSWORD, "sslmode": "prefer", "staging_host": "", "staging_port": "",
        "notes": ""}, **environ)
    page = response.content.decode()
    assert response.status_code == 500 and "audit store unavailable" in page  # the debug page itself
    for secret in (PASSWORD, "slackHookToken4Rw8Yp", ROUTING_KEY, "appDbPw8Kc"):
        assert secret not in page, secret
