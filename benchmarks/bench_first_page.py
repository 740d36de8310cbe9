#!/usr/bin/env python
"""First plan page with a cold browser cache: headless chromium (Debian's /usr/bin/chromium driven
by Playwright, a fresh browser context per load, so nothing is cached) against gunicorn (2 workers,
production settings) serving static files the production way (WhiteNoise over collectstatic's
output with gzip and brotli variants).

Per page it prints the median and p95 of N cold loads of
- ``loaded``: the page's load event (every script and style sheet fetched and run);
- ``chart``: the plotly chart drawn (app.js marks the holder ``data-drawn="done"``), on pages with one;
- ``done``: the later of the two: the page fully loaded with its chart drawn;
and what was fetched (requests, bytes on the wire).

    .venv/bin/python benchmarks/bench_first_page.py [-n 15] [--keep] [--compare OTHER_TREE]

``--compare DIR`` also serves a second checkout of the app (e.g. ``git worktree`` of an earlier
commit, with ``.venv`` linked) from the same database and alternates the loads, printing both.
It builds its own database ``dataflow_bench_first_page`` (``--db``) on the server in DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/postgres) and drops it afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "bench-" + secrets.token_hex(6)

SEED = r'''
import os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataflow_site.settings")
import django; django.setup()
from django.contrib.auth.models import Group, User
from migrations_app import workflow
from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.models import AnalysisRun
from targets.models import TargetDatabase

password = sys.argv[1]
users = {}
for name, group in (("dba", "DBA"), ("manager", "Manager")):
    user = User.objects.create_user(name, password=password)
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    users[name] = user
target = TargetDatabase(name="bench", host="127.0.0.1", port=5432, dbname="postgres", user="postgres")
target.save()
sql = ["ALTER TABLE orders ADD COLUMN note text", "CREATE INDEX CONCURRENTLY orders_note ON orders (note)",
       "ALTER TABLE orders ALTER COLUMN total SET NOT NULL", "UPDATE orders SET note = 'x'",
       "ALTER TABLE orders ADD CONSTRAINT orders_total CHECK (total > 0) NOT VALID"]
plan = workflow.create_plan(users["dba"], target=target, title="First page", operations=[
    {"type": "OTHER", "table": "orders", "sql": s, "rollback_sql": ""} for s in sql])
run = workflow.request_analysis(plan, users["dba"])
AnalysisRun.objects.filter(pk=run.pk).update(status="RUNNING")
run.refresh_from_db()
workflow.finish_analysis(run, analyze_plan([{"sql": s} for s in sql]).to_dict())
print(plan.pk)
'''


def server_url() -> str:
    return os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def db_url(name: str) -> str:
    parts = urllib.parse.urlsplit(server_url())
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(sql)


def env(db: str, static_root: str) -> dict:
    return {**os.environ, "DATABASE_URL": db_url(db), "DATAFLOW_DEBUG": "false",
            "DATAFLOW_SECRET_KEY": "bench-first-page-" + "k" * 40, "DATAFLOW_FERNET_KEYS": FERNET,
            "DATAFLOW_ALLOWED_HOSTS": "127.0.0.1", "DATAFLOW_SECURE_SSL_REDIRECT": "false",
            "DATAFLOW_CONN_MAX_AGE": "60", "DATAFLOW_LOG_LEVEL": "WARNING", "DATAFLOW_STATIC_ROOT": static_root}


def _fernet() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


FERNET = _fernet()


class Server:
    """gunicorn from a checkout (``root``), its static files collected (and compressed) into a
    directory of its own."""

    def __init__(self, root: Path, port: int, db: str):
        self.root, self.port, self.static = root, port, tempfile.mkdtemp(prefix="bench-first-page-static-")
        self.env = env(db, self.static)
        subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=root, env=self.env, check=True)
        self.process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "dataflow_site.wsgi", "-w", "2",
                                         "-b", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=root, env=self.env)
        for _ in range(150):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/accounts/login/")
                break
            except OSError:
                time.sleep(0.2)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.static, ignore_errors=True)


# Records when the chart holder is marked drawn (a MutationObserver installed before any page script).
MARK_DRAWN = """
new MutationObserver(function () {
  if (!window.__chartDrawn && document.querySelector('[data-chart][data-drawn="done"]')) {
    window.__chartDrawn = performance.now();
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-drawn"]});
"""


def cold_load(browser, state, url: str, chart: bool) -> dict:
    context = browser.new_context(storage_state=state, viewport={"width": 1400, "height": 900})
    context.add_init_script(MARK_DRAWN)
    page = context.new_page()
    fetched = []
    page.on("requestfinished", lambda r: fetched.append(r))
    try:
        page.goto(url, wait_until="load")
        if chart:
            page.wait_for_function("() => window.__chartDrawn !== undefined", timeout=30_000)
        timing = page.evaluate("""() => {
            const nav = performance.getEntriesByType("navigation")[0];
            return {loaded: nav.loadEventEnd, dcl: nav.domContentLoadedEventEnd, ttfb: nav.responseStart,
                    chart: window.__chartDrawn || null};
        }""")
        wire = 0
        for request in fetched:
            sizes = request.sizes()
            wire += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        timing.update(requests=len(fetched), kb=wire / 1024,
                      done=max(timing["loaded"], timing["chart"] or 0))
        return timing
    finally:
        context.close()


def login_state(browser, base: str) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    state = context.storage_state()
    context.close()
    return state


def summary(rows: list[dict], key: str) -> str:
    values = sorted(r[key] for r in rows if r[key] is not None)
    if not values:
        return f"{'–':>7} {'–':>7}"
    return f"{statistics.median(values):7.0f} {values[max(0, int(len(values) * 0.95) - 1)]:7.0f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=15, help="cold loads per page (and per checkout)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--db", default="dataflow_bench_first_page")
    parser.add_argument("--port", type=int, default=8151)
    parser.add_argument("--compare", type=Path, help="another checkout of the app to serve and measure alternately")
    args = parser.parse_args()
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    psql(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")
    psql(f"CREATE DATABASE {args.db}")
    setup_env = env(args.db, str(ROOT / "staticfiles"))
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=setup_env, check=True)
    done = subprocess.run([PY, "-c", SEED, PASSWORD], cwd=ROOT, env=setup_env, check=True, capture_output=True, text=True)
    plan = int(done.stdout.split()[-1])
    trees = {"this checkout": ROOT}
    if args.compare:
        trees = {f"compare ({args.compare})": args.compare.resolve(), **trees}
    servers = {}
    try:
        for i, (name, root) in enumerate(trees.items()):
            servers[name] = Server(root, args.port + i, args.db)
        pages = [(f"/plans/{plan}/?tab=risk", True), (f"/plans/{plan}/", False), (f"/plans/{plan}/?tab=dependencies", False)]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            states = {name: login_state(browser, server.url) for name, server in servers.items()}
            results = {(name, path): [] for name in servers for path, _ in pages}
            for name, server in servers.items():  # one load each first: workers warm, templates compiled
                for path, chart in pages:
                    cold_load(browser, states[name], server.url + path, chart)
            for _ in range(args.n):
                for path, chart in pages:
                    for name, server in servers.items():
                        results[(name, path)].append(cold_load(browser, states[name], server.url + path, chart))
            browser.close()
        print(f"\n{args.n} cold loads each, ms (req, KB: requests and bytes on the wire of one load)")
        print(f"{'':69}" + "".join(f" {label:^15}" for label in ("TTFB", "DOMContentLoaded", "load", "chart drawn", "done")))
        print(f"{'checkout':34} {'page':34} " + " p50     p95     " * 5 + f"{'req':>4} {'KB':>6}")
        for (name, path), rows in results.items():
            print(f"{name[:34]:34} {path:34} {summary(rows, 'ttfb')} {summary(rows, 'dcl')} {summary(rows, 'loaded')} "
                  f"{summary(rows, 'chart')} {summary(rows, 'done')} {rows[0]['requests']:>4} {rows[0]['kb']:>6.0f}")
    finally:
        for server in servers.values():
            server.stop()
        if not args.keep:
            psql(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")


if __name__ == "__main__":
    main()
