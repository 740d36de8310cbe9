"""Alert rows and the delivery task: routing by severity to a local HTTP receiver and a local
SMTP server (aiosmtpd), retries recorded per attempt, unconfigured channels skipped."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from migrations_app.incidents import queue_alert
from migrations_app.models import Alert
from migrations_app.tasks import deliver_alert_task
from targets.models import AuditEvent

ROUTING_KEY = "rk-secret-123"


class Receiver:
    """Local webhook endpoint: records every POST; answers 500 to the first ``fail_first`` ones."""

    def __init__(self, fail_first=0):
        self.requests: list[tuple[str, dict]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.requests.append((self.path, body))
                failing = len(receiver.requests) <= receiver.fail_first
                self.send_response(500 if failing else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self):
        return [p for p, _ in self.requests]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    import socket

    with socket.socket() as probe:  # aiosmtpd connects to its own port on start: port 0 will not do
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def channels(settings, smtp):
    controller, inbox = smtp
    receiver = Receiver()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.DATAFLOW_SLACK_WEBHOOK_URL = receiver.url + "/slack/T000/B000/token"
    settings.DATAFLOW_PAGERDUTY_URL = receiver.url + "/pager/v2/enqueue"
    settings.DATAFLOW_PAGERDUTY_ROUTING_KEY = ROUTING_KEY
    settings.DATAFLOW_ALERT_EMAILS = ["oncall@example.com"]
    yield receiver, inbox
    receiver.server.shutdown()


@pytest.mark.parametrize("severity, slack, email, pager", [
    ("info", True, False, False),
    ("warning", True, True, False),
    ("error", True, True, False),
    ("critical", True, True, True),
])
def test_alerts_are_routed_by_severity_to_the_configured_channels(db, channels, severity, slack, email, pager):
    receiver, inbox = channels
    alert = queue_alert(severity, f"{severity} thing", "details")
    assert deliver_alert_task(alert.pk) == "sent"
    alert.refresh_from_db()
    assert receiver.paths().count("/slack/T000/B000/token") == int(slack)
    assert receiver.paths().count("/pager/v2/enqueue") == int(pager)
    assert len(inbox.messages) == int(email)
    expected = {"slack": slack, "email": email, "pager": pager}
    assert {c: r["status"] for c, r in alert.channels.items()} == {
        c: "sent" if routed else "skipped" for c, routed in expected.items()}
    if pager:
        body = dict(receiver.requests)["/pager/v2/enqueue"]
        assert body["routing_key"] == ROUTING_KEY and body["payload"]["severity"] == "critical"
    if email:
        assert inbox.messages[0].rcpt_tos == ["oncall@example.com"]
    assert len(alert.attempts) == 1 and alert.delivered_at is not None


def test_a_failing_channel_is_retried_and_every_attempt_is_recorded_without_resending_the_others(db, channels):
    receiver, inbox = channels
    receiver.fail_first = 1  # Slack answers 500 once
    alert = queue_alert("warning", "lock timeout", "details")
    assert deliver_alert_task(alert.pk) == "sent"
    alert.refresh_from_db()
    assert [a["attempt"] for a in alert.attempts] == [1, 2]
    first = {r["channel"]: r["status"] for r in alert.attempts[0]["results"]}
    assert first == {"slack": "failed", "email": "sent", "pager": "skipped"}
    assert [r["channel"] for r in alert.attempts[1]["results"]] == ["slack", "pager"]  # email not resent
    assert alert.channels["slack"] == {**alert.channels["slack"], "status": "sent", "attempt": 2}
    assert len(inbox.messages) == 1 and receiver.paths().count("/slack/T000/B000/token") == 2
    assert AuditEvent.objects.filter(verb="alert.delivered", object_id=str(alert.pk)).count() == 1


def test_a_channel_that_keeps_failing_ends_failed_after_the_configured_attempts(db, channels, settings):
    receiver, _ = channels
    receiver.fail_first = 99
    settings.DATAFLOW_ALERT_MAX_ATTEMPTS = 3
    alert = queue_alert("info", "succeeded", "details")
    assert deliver_alert_task(alert.pk) == "failed"
    alert.refresh_from_db()
    assert len(alert.attempts) == 3 and alert.channels["slack"]["status"] == "failed"
    assert "HTTP 500" in alert.channels["slack"]["detail"]


def test_unconfigured_channels_are_skipped_never_an_error(db):
    mail.outbox.clear()
    alert = queue_alert("critical", "rollback failed", "details")
    assert deliver_alert_task(alert.pk) == "skipped"
    alert.refresh_from_db()
    assert alert.status == Alert.Status.SKIPPED
    assert {c: r["status"] for c, r in alert.channels.items()} == {"slack": "skipped", "email": "skipped",
                                                                    "pager": "skipped"}
    assert "not configured" in alert.channels["slack"]["detail"]
    assert deliver_alert_task(alert.pk) == "skipped" and len(Alert.objects.get(pk=alert.pk).attempts) == 1


def test_no_webhook_url_or_routing_key_reaches_the_alert_row_or_the_alerts_page(db, channels, engineer, client_for):
    receiver, _ = channels
    receiver.fail_first = 99
    alert = queue_alert("critical", "rollback failed", "details")
    deliver_alert_task(alert.pk)
    stored = json.dumps(Alert.objects.filter(pk=alert.pk).values("channels", "attempts").get())
    page = client_for(engineer).get("/alerts/").content.decode()
    for secret in ("T000/B000/token", ROUTING_KEY, "/pager/v2/enqueue"):
        assert secret not in stored and secret not in page
    assert "rollback failed" in page and "HTTP 500" in page
