"""Outgoing webhooks: plan, execution and drift events reach a local receiver as JSON signed with
HMAC-SHA256 (the receiver checks the signature), failures are retried with backoff, and every
attempt is recorded on the delivery and shown on the Webhooks page."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from integrations.engines import webhooks as engine
from integrations.models import WebhookDelivery
from integrations.tasks import check_drift
from integrations.webhooks import deliver, url_hash
from migrations_app import execution
from migrations_app.models import MigrationPlan
from tests.factories import TargetDatabaseFactory

SECRET = "whsec-Kq83-shared-secret"
URL_TOKEN = "hookPathToken9Zt"
SCHEMA = "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL);"
FILES = [{"path": "db/V1__phone.sql", "content": "ALTER TABLE customers ADD COLUMN phone text;\n"}]


class SigningReceiver:
    """A local endpoint that checks every request's signature with the shared secret, like a real
    receiver would; answers ``statuses`` in turn (then 200)."""

    def __init__(self, secret: str, statuses=()):
        self.requests: list[dict] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": self.headers, "body": body,
                                          "valid": engine.verify(secret, self.headers, body)})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/{URL_TOKEN}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [json.loads(r["body"])["event"] for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    made = []

    def make(statuses=(), secret=SECRET):
        hook = SigningReceiver(SECRET, statuses)
        made.append(hook)
        settings.DATAFLOW_WEBHOOK_URLS = [hook.url]
        settings.DATAFLOW_WEBHOOK_SECRET = secret
        settings.DATAFLOW_WEBHOOK_MAX_ATTEMPTS = 3
        settings.DATAFLOW_WEBHOOK_RETRY_SECONDS = 0
        return hook

    yield make
    for hook in made:
        hook.close()


@pytest.fixture
def shop_target(target_db, db):
    return TargetDatabaseFactory.for_connection(target_db(SCHEMA), name="shop")


def submit_and_execute(dba, token_for, api, capture) -> MigrationPlan:
    client = api(token_for(dba, "write"))
    with capture(execute=True):
        submitted = client.post("/ci/submit", {"target": "shop", "ref": "main", "files": FILES}).json()
    plan = MigrationPlan.objects.get(pk=submitted["plan"]["id"])
    with capture(execute=True):
        run = execution.start_execution(plan, dba)
    run.refresh_from_db()
    assert run.status == "SUCCEEDED", run.error
    return plan


def test_analysed_and_executed_plans_reach_the_receiver_signed_and_a_failing_receiver_is_retried(
        receiver, shop_target, dba, token_for, api, client_for, django_capture_on_commit_callbacks):
    hook = receiver(statuses=[503, 500])
    plan = submit_and_execute(dba, token_for, api, django_capture_on_commit_callbacks)
    # a LOW plan is approved by its analysis: that is an event of its own
    assert hook.events() == ["plan.analysed"] * 3 + ["plan.approved", "execution.executed"]
    assert all(r["valid"] for r in hook.requests), "every request carries a valid signature"
    assert not engine.verify("another-secret", hook.requests[-1]["headers"], hook.requests[-1]["body"])
    assert hook.requests[0]["headers"]["X-DataFlow-Event"] == "plan.analysed"

    analysed, approved, executed = WebhookDelivery.objects.order_by("pk")
    assert (analysed.status, [a["status"] for a in analysed.attempts]) == ("sent", ["failed", "failed", "sent"])
    assert [a["detail"].split(" from ")[0] for a in analysed.attempts] == ["HTTP 503", "HTTP 500", "HTTP 200"]
    assert (approved.status, executed.status, len(executed.attempts)) == ("sent", "sent", 1)
    body = json.loads(hook.requests[-1]["body"])
    assert (body["plan"]["id"], body["plan"]["target"]["name"], body["execution"]["status"]) == (
        plan.pk, "shop", "SUCCEEDED")
    assert body["id"] == f"audit-{body['id'].split('-')[1]}" and body["execution"]["digest_after"]
    assert analysed.endpoint.endswith("/***") and URL_TOKEN not in analysed.endpoint

    page = client_for(dba).get(reverse("webhook_list")).content.decode()
    assert "plan.analysed" in page and "HTTP 503" in page and "execution.executed" in page


def test_drift_is_sent_as_an_event_with_the_objects_that_changed(
        receiver, shop_target, django_capture_on_commit_callbacks):
    hook = receiver()
    assert check_drift() == {"baseline": 1}
    with shop_target.connection().connect(autocommit=True) as conn:
        conn.execute("CREATE INDEX customers_email_idx ON customers (email)")
    with django_capture_on_commit_callbacks(execute=True):
        check_drift()
    (request,) = hook.requests
    body = json.loads(request["body"])
    assert request["valid"] and body["event"] == "target.drift"
    assert body["drift"]["objects"] == [{"change": "added", "kind": "index", "name": "public.customers.customers_email_idx"}]
    assert body["drift"]["added"] == 1 and body["target"]["name"] == "shop"


def test_nothing_is_sent_unsigned_and_a_refusing_receiver_is_not_retried(
        receiver, shop_target, dba, token_for, api, django_capture_on_commit_callbacks):
    hook = receiver(secret="")
    submit_and_execute(dba, token_for, api, django_capture_on_commit_callbacks)
    assert hook.requests == []
    assert {(d.status, d.attempts[0]["detail"]) for d in WebhookDelivery.objects.all()} == {
        ("skipped", "DATAFLOW_WEBHOOK_SECRET is not set: nothing is sent unsigned")}

    refused = receiver(statuses=[400])
    delivery = WebhookDelivery.objects.first()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="queued", attempts=[], endpoint_hash=url_hash(refused.url))
    assert deliver(delivery.pk, sleep=lambda s: pytest.fail("a 400 is not retried")) == "failed"
    delivery.refresh_from_db()
    assert [a["http_status"] for a in delivery.attempts] == [400] and len(refused.requests) == 1


def test_a_stale_or_forged_signature_does_not_verify():
    body = b'{"event":"plan.analysed"}'
    headers = {engine.TIMESTAMP_HEADER: "1000", engine.SIGNATURE_HEADER: engine.signature(SECRET, 1000, body)}
    assert engine.verify(SECRET, headers, body, now=1100)
    assert not engine.verify(SECRET, headers, body, now=1000 + 301)          # replayed later
    assert not engine.verify(SECRET, headers, body + b" ", now=1100)          # body changed
    assert not engine.verify(SECRET, {**headers, engine.TIMESTAMP_HEADER: "1001"}, body, now=1100)
