"""Run-time edges: links in emails follow the port `make run` serves on, Ctrl-C and SIGTERM stop
bin/run-dev (web server and django-q2 cluster) within seconds with status 0, and a refused
request is one console line without a traceback."""

import io
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection

from dataflow_site.log_filters import ForbiddenWithoutTraceback
from migrations_app.notifications import notify_managers_awaiting_sign_off
from tests.factories import MigrationPlanFactory, analyse

ROOT = Path(__file__).resolve().parents[2]


def _settings_value(name: str, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DATAFLOW_")}
    environ.update(env, DJANGO_SETTINGS_MODULE="dataflow_site.settings",
                   DATABASE_URL=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/x"))
    result = subprocess.run([sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
                            cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_email_links_follow_the_port_make_run_serves_on_unless_a_base_url_is_given():
    assert _settings_value("DATAFLOW_BASE_URL", DATAFLOW_PORT="8765") == "http://127.0.0.1:8765"
    assert _settings_value("DATAFLOW_BASE_URL", DATAFLOW_HOST="0.0.0.0", DATAFLOW_PORT="9000") == "http://127.0.0.1:9000"
    assert _settings_value("DATAFLOW_BASE_URL", DATAFLOW_PORT="8765",
                           DATAFLOW_BASE_URL="https://review.example.com") == "https://review.example.com"


def test_the_sign_off_email_links_to_the_configured_base_url(settings, dba, manager):
    settings.DATAFLOW_BASE_URL = "http://127.0.0.1:8765"
    plan = analyse(MigrationPlanFactory(author=dba, title="Drop legacy"), "HIGH")
    assert notify_managers_awaiting_sign_off(plan) == 1
    assert f"http://127.0.0.1:8765/plans/{plan.pk}/" in mail.outbox[-1].body


def test_a_refused_request_is_logged_as_one_line_without_a_traceback(outsider, client_for):
    console = next(h for h in logging.getLogger().handlers
                   if any(isinstance(f, ForbiddenWithoutTraceback) for f in h.filters))
    client = client_for(outsider)  # signing in logs its own lines
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        assert client.get("/plans/").status_code == 403
    finally:
        console.setStream(previous)
    lines = stream.getvalue().strip().splitlines()
    assert len(lines) == 1 and "Forbidden" in lines[0] and "/plans/" in lines[0]
    assert "Traceback" not in stream.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_run_dev(port: int) -> subprocess.Popen:
    settings_dict = connection.settings_dict
    env = {**os.environ, "DATAFLOW_PORT": str(port), "DATAFLOW_Q_WORKERS": "1",
           "DATABASE_URL": f"postgresql://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}"
                           f"/{settings_dict['NAME']}"}
    # a terminal's Ctrl-C reaches a process group whose SIGINT is not ignored (pytest's may be)
    process = subprocess.Popen(["bash", "bin/run-dev"], cwd=ROOT, env=env, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            assert process.poll() is None, process.communicate()[0]
            time.sleep(0.3)
    else:
        pytest.fail("bin/run-dev did not serve within 60 s")
    return process


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("how", ["ctrl-c to the process group", "SIGTERM to the script only"])
def test_run_dev_stops_its_web_server_and_cluster_within_seconds_and_exits_zero(how):
    process = _start_run_dev(_free_port())
    time.sleep(2)  # the cluster's processes are up too
    started = time.monotonic()
    if how.startswith("ctrl-c"):
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=20)
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
    for line in output.splitlines():  # never leave a cluster behind, even when the test fails
        if line.startswith("Task cluster: process group ") and _group_alive(int(line.rsplit(" ", 1)[1])):
            os.killpg(int(line.rsplit(" ", 1)[1]), signal.SIGKILL)
    stopped_after = time.monotonic() - started
    assert process.returncode == 0, output
    assert stopped_after < 8, output
    assert "Traceback" not in output and "has stopped" in output
    cluster = int(re.search(r"Task cluster: process group (\d+)", output).group(1))
    time.sleep(0.5)
    assert not _group_alive(process.pid), "the web server outlived bin/run-dev"
    assert not _group_alive(cluster), "a django-q2 cluster process outlived bin/run-dev"
