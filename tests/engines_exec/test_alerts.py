"""Alert delivery to a local HTTP receiver and a local SMTP server, routed by severity."""

from __future__ import annotations

import json
import smtplib
import socket
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from targets.engines.alerts import AlertChannelsConfig, AlertSeverity, deliver_alert

ROUTING_KEY = "R0UTINGKEYsecret123"


@pytest.fixture
def receiver():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.path, body))
            self.send_response(500 if self.path.startswith("/broken") else 202)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp():
    class Handler:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
            return "250 OK"

    handler = Handler()
    with socket.socket() as probe:  # Controller's start-up self check cannot use port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()

    def send_mail(subject, body, from_email, recipients, fail_silently=False):
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = subject, from_email, ", ".join(recipients)
        message.set_content(body)
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.send_message(message)

    yield send_mail, handler.messages
    controller.stop()


def _config(base):
    return AlertChannelsConfig(slack_webhook_url=f"{base}/slack/T000/B000/XXXXsecret",
                               pager_events_url=f"{base}/v2/enqueue", pager_routing_key=ROUTING_KEY,
                               email_recipients=("dba-team@example.com",))


@pytest.mark.parametrize("severity, expected", [
    (AlertSeverity.INFO, {"slack": "sent", "email": "skipped", "pager": "skipped"}),
    (AlertSeverity.WARNING, {"slack": "sent", "email": "sent", "pager": "skipped"}),
    (AlertSeverity.ERROR, {"slack": "sent", "email": "sent", "pager": "skipped"}),
    (AlertSeverity.CRITICAL, {"slack": "sent", "email": "sent", "pager": "sent"}),
])
def test_alerts_are_routed_by_severity_and_delivered(receiver, smtp, severity, expected):
    base, received = receiver
    send_mail, mails = smtp
    results = deliver_alert("Migration 42 failed on orders", severity, _config(base), send_email=send_mail)
    assert {r.channel: r.status for r in results} == expected
    paths = [path for path, _ in received]
    assert paths.count("/slack/T000/B000/XXXXsecret") == 1
    assert received[0][1]["text"].startswith(f"*{severity.value.upper()}*")
    assert len(mails) == (1 if expected["email"] == "sent" else 0)
    if mails:
        assert mails[0][0] == ["dba-team@example.com"] and "Migration 42 failed" in mails[0][1]
    pages = [body for path, body in received if path == "/v2/enqueue"]
    assert len(pages) == (1 if expected["pager"] == "sent" else 0)
    if pages:
        assert pages[0]["routing_key"] == ROUTING_KEY and pages[0]["event_action"] == "trigger"
        assert pages[0]["payload"] == {"summary": "Migration 42 failed on orders", "severity": "critical",
                                       "source": "dataflow-migration-review"}
    for result in results:
        assert "XXXXsecret" not in result.detail and ROUTING_KEY not in result.detail


def test_unconfigured_channels_are_skipped_with_the_reason():
    results = deliver_alert("disk almost full", AlertSeverity.CRITICAL, AlertChannelsConfig())
    assert [(r.channel, r.status) for r in results] == [("slack", "skipped"), ("email", "skipped"), ("pager", "skipped")]
    assert all(r.detail for r in results)


def test_a_failing_endpoint_is_reported_failed_without_revealing_the_url(receiver):
    base, _ = receiver
    config = AlertChannelsConfig(slack_webhook_url=f"{base}/broken/XXXXsecret",
                                 pager_events_url="http://127.0.0.1:9/v2/enqueue", pager_routing_key=ROUTING_KEY)
    results = {r.channel: r for r in deliver_alert("x", AlertSeverity.CRITICAL, config)}
    assert results["slack"].status == "failed" and "HTTP 500" in results["slack"].detail
    assert results["pager"].status == "failed"
    for result in results.values():
        assert "XXXXsecret" not in result.detail and ROUTING_KEY not in result.detail and "enqueue" not in result.detail
