#!/usr/bin/env python
"""What a plan review page load costs on a 50-operation plan: app-database queries and milliseconds
per tab, measured with Django's test client on the demo database (run `make run` or seed_demo first).

    DATABASE_URL=... .venv/bin/python benchmarks/bench_review_page.py
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataflow_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from migrations_app import workflow  # noqa: E402
from migrations_app.models import MigrationPlan
from migrations_app.plan_sql import script_to_operations  # noqa: E402
from migrations_app.tasks import run_plan_analysis  # noqa: E402
from targets.models import TargetDatabase  # noqa: E402

TITLE = "Benchmark: 50 operations"


def fifty_statements() -> str:
    tables = ["customers", "orders", "order_items", "products", "categories"]
    lines = []
    for i in range(50):
        table = tables[i % len(tables)]
        kind = i % 5
        if kind == 0:
            lines.append(f"ALTER TABLE {table} ADD COLUMN bench_{i} text")
        elif kind == 1:
            lines.append(f"CREATE INDEX CONCURRENTLY bench_idx_{i} ON {table} (id)")
        elif kind == 2:
            lines.append(f"ALTER TABLE {table} ADD CONSTRAINT bench_chk_{i} CHECK (id > 0) NOT VALID")
        elif kind == 3:
            lines.append(f"COMMENT ON TABLE {table} IS 'bench {i}'")
        else:
            lines.append(f"ALTER TABLE {table} ALTER COLUMN id SET NOT NULL")
    return ";\n".join(lines) + ";"


def main():
    target = TargetDatabase.objects.get(name="demo_shop")
    dba = User.objects.get(username="dba")
    viewer = User.objects.get(username="manager")
    plan = MigrationPlan.objects.filter(title=TITLE).first()
    if plan is None:
        plan = workflow.create_plan(dba, target=target, title=TITLE,
                                    operations=script_to_operations(fifty_statements(), "public", target))
        run = workflow.request_analysis(plan, dba)
        started = time.perf_counter()
        run_plan_analysis(run.pk)
        print(f"analysis of 50 operations: {(time.perf_counter() - started) * 1000:.0f} ms")
    client = Client()
    client.force_login(viewer)
    plan.refresh_from_db()
    print(f"plan {plan.pk}: {plan.operations.count()} operations, risk {plan.risk_level}")
    print(f"{'tab':<14}{'queries':>8}{'median ms':>11}{'p95 ms':>9}{'KiB':>7}")
    for tab in ["operations", "dependencies", "risk", "mitigation", "history"]:
        url = f"/plans/{plan.pk}/?tab={tab}"
        client.get(url)  # warm templates
        times = []
        for _ in range(15):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        times.sort()
        print(f"{tab:<14}{len(queries):>8}{statistics.median(times):>11.1f}{times[int(len(times) * 0.95) - 1]:>9.1f}"
              f"{len(response.content) / 1024:>7.0f}")


if __name__ == "__main__":
    main()
