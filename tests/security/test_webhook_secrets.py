"""The webhook signing secret and a token in a webhook URL never leave the settings: not in a
delivery row, an audit row, a django-q2 task row, the Webhooks page or a log line, on success and
on failure (a receiver that answers 500, one that is not listening)."""

from __future__ import annotations

import logging
import socket

from django.apps import apps
from django.core import serializers
from django.urls import reverse

from integrations.tasks import check_drift
from tests.api.conftest import api, token_for  # noqa: F401  (fixtures: the flow goes through the API)
from tests.api.test_webhooks import SigningReceiver, submit_and_execute
from tests.factories import TargetDatabaseFactory

SECRET = "whsec-Rt55-never-shown"
URL_TOKEN = "hookPathToken9Zt"  # the path token SigningReceiver puts in its URL


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stored_text() -> str:
    from django_q.models import OrmQ, Task

    parts = [serializers.serialize("json", model.objects.all())
             for app in ("integrations", "migrations_app", "targets") for model in apps.get_app_config(app).get_models()]
    parts += [repr((t.name, t.func, t.args, t.kwargs, t.result)) for t in Task.objects.all()]
    parts += [repr(q.task()) for q in OrmQ.objects.all()]
    return "\n".join(parts)


def test_the_webhook_secret_and_url_token_appear_nowhere_the_deliveries_write_show_or_log(
        settings, caplog, target_db, dba, token_for, api, client_for, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    hook = SigningReceiver(SECRET, statuses=[500])
    dead = f"http://127.0.0.1:{closed_port()}/dead/{URL_TOKEN}"
    settings.DATAFLOW_WEBHOOK_URLS = [hook.url, dead]
    settings.DATAFLOW_WEBHOOK_SECRET = SECRET
    settings.DATAFLOW_WEBHOOK_MAX_ATTEMPTS = 2
    settings.DATAFLOW_WEBHOOK_RETRY_SECONDS = 0
    try:
        target = TargetDatabaseFactory.for_connection(
            target_db("CREATE TABLE customers (id bigint PRIMARY KEY, email text);"), name="shop")
        submit_and_execute(dba, token_for, api, django_capture_on_commit_callbacks)
        check_drift()
        with target.connection().connect(autocommit=True) as conn:
            conn.execute("CREATE INDEX customers_email_idx ON customers (email)")
        with django_capture_on_commit_callbacks(execute=True):
            check_drift()
        pages = [client_for(dba).get(reverse(name, args=args)).content.decode()
                 for name, args in (("webhook_list", []), ("target_ledger", [target.pk]), ("audit_list", []))]
    finally:
        hook.close()
    assert hook.requests and all(r["valid"] for r in hook.requests)
    text = "\n".join([stored_text(), *pages, caplog.text])
    assert "target.drift" in text and "Connection refused" in text  # the failures were recorded ...
    for secret in (SECRET, URL_TOKEN, "/dead/", "/hooks/"):
        assert secret not in text, f"{secret!r} leaked"  # ... without the secret or the URL's path
