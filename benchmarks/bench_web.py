#!/usr/bin/env python
"""Web pages over HTTP, as a browser gets them: gunicorn (2 workers, production settings) on a
database of 10,006 plans plus one 10,000-statement plan.

- every list and review page: p50 / p95 of 30 sequential requests (after 3 warm-up requests) and
  the response size (the query count per page is tested in tests/, where it can be counted);
- a bounded load run on loopback: 20 client threads for 60 s (at most 20,000 requests) mixing review
  pages and analysis requests; requests/s, p50 / p95 and errors.

    .venv/bin/python benchmarks/bench_web.py [--keep] [--seconds 60] [--clients 20]

It builds its own database ``dataflow_bench_web`` on the server in DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres) and drops it afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
DB_NAME = "dataflow_bench_web"
PORT = 8134
PASSWORD = "bench-" + secrets.token_hex(6)
PLANS = 10_006
BIG = 10_000


def server_url() -> str:
    return os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def bench_url() -> str:
    parts = urllib.parse.urlsplit(server_url())
    return urllib.parse.urlunsplit(parts._replace(path="/" + DB_NAME))


def psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(sql)


def env() -> dict:
    from cryptography.fernet import Fernet

    return {**os.environ, "DATABASE_URL": bench_url(), "DATAFLOW_DEBUG": "false",
            "DATAFLOW_SECRET_KEY": secrets.token_urlsafe(50), "DATAFLOW_FERNET_KEYS": Fernet.generate_key().decode(),
            "DATAFLOW_ALLOWED_HOSTS": "127.0.0.1", "DATAFLOW_SECURE_SSL_REDIRECT": "false",
            "DATAFLOW_CONN_MAX_AGE": "60", "DATAFLOW_API_RATE": "100000/m", "DATAFLOW_LOG_LEVEL": "WARNING"}


# -- data ------------------------------------------------------------------------------------------

SEED = r'''
import os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataflow_site.settings")
import django; django.setup()
from django.contrib.auth.models import Group, User
from django.utils import timezone
from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.models import AnalysisRun, MigrationPlan, PlanOperation
from migrations_app import report_store
from migrations_app.review_version import compute_analysis_digest
from migrations_app.workflow import store_summary_and_digest
from migrations_app.workflow import compute_sql_hash
from targets.models import TargetDatabase

password, plans, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
users = {}
for name, group in (("dba", "DBA"), ("dba2", "DBA"), ("manager", "Manager"), ("engineer", "Engineer")):
    user = User.objects.create_user(name, password=password)
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    users[name] = user
target = TargetDatabase(name="bench", host="127.0.0.1", port=5432, dbname="postgres", user="postgres")
target.save()
statuses = ["DRAFT", "IN_REVIEW", "APPROVED", "SUCCEEDED", "FAILED", "REJECTED"]
levels = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
now = timezone.now()
rows = [MigrationPlan(title=f"Plan {i}", target=target, author=users["dba" if i % 3 else "dba2"],
                      status=statuses[i % len(statuses)], risk_level=levels[i % 4], risk_score=10 + i % 80)
        for i in range(plans)]
MigrationPlan.objects.bulk_create(rows, batch_size=2000)
ops = [PlanOperation(plan=p, position=1, type="ADD_COLUMN", table="orders", column="c",
                     sql=f"ALTER TABLE orders ADD COLUMN c{p.pk} text", rollback_sql=f"ALTER TABLE orders DROP COLUMN c{p.pk}")
       for p in rows]
PlanOperation.objects.bulk_create(ops, batch_size=5000)
for p, op in zip(rows, ops):
    p.sql_hash = compute_sql_hash([op])
MigrationPlan.objects.bulk_update(rows, ["sql_hash"], batch_size=2000)
analysed = [p for p in rows if p.status != "DRAFT"]
report = analyze_plan([{"sql": ops[0].sql, "rollback_sql": ops[0].rollback_sql}]).to_dict()
identity = target.connection_identity("public")
runs = AnalysisRun.objects.bulk_create([AnalysisRun(plan=p, sql_hash=p.sql_hash, status="SUCCEEDED", report=report,
                                                    risk_level=p.risk_level, risk_score=p.risk_score, finished_at=now,
                                                    target_identity=identity) for p in analysed], batch_size=2000)
# as every analysis the app finishes: its summary and digest stored (workflow.store_summary_and_digest),
# made of the report as read back; the rows share one report, so it is read back once
stored = report_store.stored_report(runs[0])
summary = report_store.summarise(stored)
for run in runs:
    run.summary, run.digest = summary, compute_analysis_digest(run, stored)
AnalysisRun.objects.bulk_update(runs, ["summary", "digest"], batch_size=2000)
# one plan of many statements, analysed statically (its report is what the review page renders)
sql = [f"ALTER TABLE orders ADD COLUMN big_{i} text" if i % 2 else f"CREATE INDEX CONCURRENTLY big_idx_{i} ON orders (id)"
       for i in range(big)]
huge = MigrationPlan.objects.create(title="Plan of many statements", target=target, author=users["dba"],
                                    status="IN_REVIEW", risk_level="MEDIUM", risk_score=40)
big_ops = [PlanOperation(plan=huge, position=i + 1, type="OTHER", table="orders", sql=s) for i, s in enumerate(sql)]
PlanOperation.objects.bulk_create(big_ops, batch_size=5000)
huge.sql_hash = compute_sql_hash(big_ops)
huge.save(update_fields=["sql_hash"])
report = analyze_plan([{"sql": s} for s in sql]).to_dict()
huge_run = AnalysisRun.objects.create(plan=huge, sql_hash=huge.sql_hash, status="SUCCEEDED", report=report,
                                      risk_level="MEDIUM", risk_score=40, finished_at=now, target_identity=identity)
store_summary_and_digest(huge_run)
small = MigrationPlan.objects.filter(status="IN_REVIEW").exclude(pk=huge.pk).order_by("pk").first()
draft = MigrationPlan.objects.filter(status="DRAFT").order_by("pk").first()
print(huge.pk, small.pk, draft.pk)
'''


def build() -> tuple[int, int, int]:
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env(), check=True)
    done = subprocess.run([PY, "-c", SEED, PASSWORD, str(PLANS), str(BIG)], cwd=ROOT, env=env(), check=True,
                          capture_output=True, text=True)
    huge, small, draft = map(int, done.stdout.split()[-3:])
    return huge, small, draft


# -- HTTP ------------------------------------------------------------------------------------------

class Session:
    """A logged-in client over http.client; cookies kept by hand (production cookies are Secure,
    which a cookie jar would not send over plain http on loopback)."""

    def __init__(self, user: str):
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        page = self.get("/accounts/login/")[1]
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        status, _ = self.post("/accounts/login/", {"username": user, "password": PASSWORD,
                                                   "csrfmiddlewaretoken": token})
        assert status == 302, f"login failed for {user}: {status}"

    def _request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers["Host"] = "127.0.0.1"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data

    def get(self, path):
        return self._request("GET", path)

    def post(self, path, data):
        return self._request("POST", path, urllib.parse.urlencode(data),
                             {"Content-Type": "application/x-www-form-urlencoded",
                              "X-CSRFToken": self.cookies.get("csrftoken", ""), "Referer": f"http://127.0.0.1:{PORT}/"})


def measure(session: Session, path: str, rounds: int = 30) -> dict:
    for _ in range(3):
        session.get(path)
    times, size, status = [], 0, None
    for _ in range(rounds):
        start = time.perf_counter()
        status, body = session.get(path)
        times.append((time.perf_counter() - start) * 1000)
        size = len(body)
    times.sort()
    return {"path": path, "status": status, "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 1), "kb": round(size / 1024)}


def load(seconds: float, clients: int, small: int, draft: int) -> dict:
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    times, errors, count = [], [0], [0]

    def client(n: int):
        session = Session("dba" if n % 2 else "manager")
        paths = [f"/plans/{small}/", f"/plans/{small}/?tab=risk", f"/plans/{small}/?tab=dependencies", "/plans/"]
        i = 0
        while time.monotonic() < deadline and count[0] < 20_000:
            start = time.perf_counter()
            try:
                if n % 2 and i % 10 == 0:  # a DBA asks for an analysis now and then
                    status, _ = session.post(f"/plans/{draft}/analyse/", {})
                    ok = status in (200, 302, 409)
                else:
                    status, _ = session.get(paths[i % len(paths)])
                    ok = status == 200
            except Exception:  # a dropped connection counts as an error
                ok = False
                session.conn.close()
                session.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                times.append(elapsed)
                count[0] += 1
                errors[0] += not ok
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    times.sort()
    return {"clients": clients, "seconds": round(wall, 1), "requests": len(times),
            "req_per_s": round(len(times) / wall, 1), "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 1), "errors": errors[0]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    t0 = time.perf_counter()
    huge, small, draft = build()
    print(f"set-up: {PLANS:,} plans + one of {BIG:,} statements in {time.perf_counter() - t0:.1f} s")
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env(), check=True)
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "dataflow_site.wsgi", "-w", "2",
                               "-b", f"127.0.0.1:{PORT}", "--log-level", "warning"], cwd=ROOT, env=env())
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/accounts/login/")
                break
            except OSError:
                time.sleep(0.2)
        manager = Session("manager")
        pages = ["/", "/plans/", "/plans/?status=IN_REVIEW&risk=HIGH", "/plans/queue/", "/audit/", "/incidents/",
                 "/alerts/", "/staging/", "/baselines/", "/targets/",
                 f"/plans/{small}/", f"/plans/{small}/?tab=dependencies", f"/plans/{small}/?tab=risk",
                 f"/plans/{small}/?tab=mitigation", f"/plans/{small}/?tab=history", f"/plans/{huge}/"]
        rows = [measure(manager, page) for page in pages]
        print(f"\n{'page':58} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'KB':>7}")
        for row in rows:
            print(f"{row['path'][:58]:58} {row['status']:>6} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['kb']:>7}")
        result = load(args.seconds, args.clients, small, draft)
        print(f"\nload: {json.dumps(result)}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not args.keep:
            psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
