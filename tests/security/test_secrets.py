"""A target password, the Slack webhook URL and the PagerDuty routing key never leave the places
that need them: not in a page, a log line, an audit row, a django-q2 task row, a stored JSON
field, nor on a pg_dump/pg_restore/psql command line (the password goes through the environment).

One walk through the main flows as a DBA with distinctive secrets, then a search of everything
those flows wrote or showed."""

from __future__ import annotations

import logging
import socket
import subprocess

import pytest
from django.apps import apps
from django.core import serializers
from django.urls import reverse

from staging_app.models import StagingEnvironment
from tests.shop import shop_sql
from tests.staging.conftest import drop_leftover_copies

PASSWORD = "Zq7-target-pw-Xv93kT"
WEBHOOK_TOKEN = "slackHookToken4Rw8Yp"
ROUTING_KEY = "pdRoutingKey5Tm2Lq"
SECRETS = (PASSWORD, WEBHOOK_TOKEN, ROUTING_KEY)

SHOP_SQL = shop_sql() + """
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 50) g;
INSERT INTO orders SELECT g, 1 + g % 50, g FROM generate_series(1, 200) g;
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def everything_logged(caplog):
    """caplog at DEBUG on the root and on every logger that sets its own level or does not
    propagate, so no library's record slips past."""
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and (logger.level or not logger.propagate):
            caplog.set_level(logging.DEBUG, logger=name)
            if not logger.propagate:
                logger.addHandler(caplog.handler)
    yield caplog
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger) and caplog.handler in logger.handlers:
            logger.removeHandler(caplog.handler)


@pytest.fixture
def command_lines(monkeypatch):
    """Every child process started (pg_dump, pg_restore, psql): its argv and environment."""
    started = []

    class RecordingPopen(subprocess.Popen):
        def __init__(self, args, *rest, **kwargs):
            started.append({"argv": [str(a) for a in ([args] if isinstance(args, (str, bytes)) else args)],
                            "env": dict(kwargs.get("env") or {})})
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    return started


@pytest.fixture
def secret_settings(settings):
    settings.DATAFLOW_SLACK_WEBHOOK_URL = f"http://127.0.0.1:{closed_port()}/services/T0/B0/{WEBHOOK_TOKEN}"
    settings.DATAFLOW_PAGERDUTY_URL = f"http://127.0.0.1:{closed_port()}/v2/enqueue"
    settings.DATAFLOW_PAGERDUTY_ROUTING_KEY = ROUTING_KEY
    settings.DATAFLOW_ALERT_EMAILS = ["oncall@example.com"]
    settings.DATAFLOW_ALERT_MAX_ATTEMPTS = 1
    settings.DATAFLOW_ALERT_RETRY_SECONDS = 0
    settings.DATAFLOW_EXEC_LOCK_WAIT_SECONDS = 2
    return settings


def stored_text() -> str:
    """Every row the flows could have written, as text: the app models (audit events, JSON
    fields of executions, incidents, alerts, staging copies, rehearsals, baseline runs) and
    django-q2's task and queue rows with their arguments and results unpickled."""
    from django_q.models import OrmQ, Schedule, Task

    parts = []
    for app in ("migrations_app", "staging_app", "baselines_app"):
        for model in apps.get_app_config(app).get_models():
            parts.append(serializers.serialize("json", model.objects.all()))
    for task in Task.objects.all():
        parts.append(repr((task.name, task.func, task.args, task.kwargs, task.result, task.group)))
    for queued in OrmQ.objects.all():
        parts.append(repr(queued.task()))
    for schedule in Schedule.objects.all():
        parts.append(repr((schedule.name, schedule.func, schedule.args, schedule.kwargs)))
    return "\n".join(parts)


def test_secrets_appear_nowhere_the_main_flows_write_show_or_log(
        target_db, dba, client_for, secret_settings, everything_logged, command_lines,
        django_capture_on_commit_callbacks, mailoutbox):
    from django_q.models import Task

    from migrations_app.incidents import queue_alert
    from migrations_app.models import Alert, Execution, MigrationPlan
    from targets.models import TargetDatabase

    source = target_db(SHOP_SQL)
    client = client_for(dba)
    pages: list[str] = []

    def visit(method, url, data=None, status=(200, 302)):
        response = getattr(client, method)(url, data or {})
        assert response.status_code in status, (method, url, response.status_code)
        pages.append(response.content.decode())
        return response

    fields = {"name": "shop", "environment": "development", "host": source.host, "port": source.port,
              "dbname": source.dbname, "user": source.user, "password": PASSWORD, "sslmode": "prefer",
              "staging_host": "", "staging_port": "", "notes": ""}
    visit("post", reverse("target_add"), fields)
    target = TargetDatabase.objects.get(name="shop")
    assert target.password == PASSWORD  # stored (encrypted), so every later connection carries it
    try:
        # Test connection: a database that does not exist, a port where nothing listens, then right.
        for wrong in ({"dbname": "no_such_db_here"}, {"port": closed_port()}):
            page = visit("post", reverse("target_test_connection"), {**fields, **wrong}).content.decode()
            assert "cannot connect" in page
            visit("post", reverse("target_test_connection_existing", args=[target.pk]),
                  {**fields, "password": "", **wrong})
        assert "PostgreSQL" in visit("post", reverse("target_test_connection_existing", args=[target.pk]),
                                     {**fields, "password": ""}).content.decode()
        for name in ("target_list", "dashboard"):
            visit("get", reverse(name))
        visit("get", reverse("target_edit", args=[target.pk]))
        visit("post", reverse("target_edit", args=[target.pk]), {**fields, "notes": "password re-entered"})
        visit("get", reverse("target_health", args=[target.pk]))
        visit("post", reverse("target_refresh_health", args=[target.pk]))

        # Analysis (django-q2 in sync mode, queued on commit) and execution of a LOW plan.
        visit("post", reverse("plan_create"), {"title": "Note on orders", "target": target.pk, "schema": "public",
                                               "description": "", "sql": "ALTER TABLE orders ADD COLUMN note text"})
        plan = MigrationPlan.objects.get(title="Note on orders")
        with django_capture_on_commit_callbacks(execute=True):
            visit("post", reverse("plan_analyse", args=[plan.pk]))
        plan.refresh_from_db()
        assert plan.status == "APPROVED" and plan.risk_level == "LOW", (plan.status, plan.risk_level)
        for tab in ("operations", "dependencies", "risk", "mitigation", "history"):
            visit("get", plan.get_absolute_url() + f"?tab={tab}")
        with django_capture_on_commit_callbacks(execute=True):
            visit("post", reverse("execution_start", args=[plan.pk]))
        execution = Execution.objects.get(plan=plan)
        assert execution.status == Execution.Status.SUCCEEDED, execution.error
        visit("get", execution.get_absolute_url())

        # A staging copy through the page: pg_dump / pg_restore run with the target's credentials.
        with django_capture_on_commit_callbacks(execute=True):
            visit("post", reverse("staging_create"), {"target": target.pk, "data_sample_size": 0.5,
                                                      "tables_filter": "", "masking_preset": "none",
                                                      "masking_rules": ""})
        env = StagingEnvironment.objects.get(target=target)
        assert env.status == StagingEnvironment.Status.READY, env.error
        visit("get", reverse("staging_detail", args=[env.staging_id]))
        visit("get", reverse("staging_list"))

        # A CRITICAL alert: Slack and the pager both fail on closed ports, email goes out.
        with django_capture_on_commit_callbacks(execute=True):
            alert = queue_alert("critical", "Test alert", "the migration of orders failed", execution=execution)
        alert.refresh_from_db()
        assert alert.channels["slack"]["status"] == "failed" and alert.channels["pager"]["status"] == "failed"
        for name in ("alert_list", "audit_list", "incident_list"):
            visit("get", reverse(name))

        assert Task.objects.filter(func="staging_app.tasks.replicate_staging_environment").exists()
        assert Alert.objects.exists() and mailoutbox
        children = [c for c in command_lines if c["argv"] and c["argv"][0].rsplit("/", 1)[-1] in
                    ("pg_dump", "pg_restore", "psql")]
        assert {c["argv"][0].rsplit("/", 1)[-1] for c in children} >= {"pg_dump", "pg_restore"}
        assert all(c["env"].get("PGPASSWORD") == PASSWORD for c in children)  # the password went by env

        searched = {
            "pages": "\n".join(pages),
            "log": everything_logged.text + "\n".join(r.getMessage() for r in everything_logged.records),
            "stored rows": stored_text(),
            "mail": "\n".join(m.subject + m.body for m in mailoutbox),
            "argv": "\n".join(" ".join(c["argv"]) for c in command_lines),
        }
        for where, text in searched.items():
            for secret in SECRETS:
                assert secret not in text, f"{secret} found in {where}"
    finally:
        drop_leftover_copies(StagingEnvironment.objects.values_list("staging_id", flat=True))
