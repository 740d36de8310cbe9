"""Performance baseline benchmark: false alarms, detection, and the time of a full baseline.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/bench_baselines.py

Creates ``dfbench_bl_<random>`` from the demo_shop schema and data (migrations_app/demo), then:

* full baseline: every table of ``public`` and ``billing``, all four query types, timed;
* A/A: ``--runs + 1`` measurements of ``public`` (all query types) on the unchanged database;
  each consecutive pair is compared at threshold 1.5; a false alarm is a comparison whose
  status is DEGRADATION_DETECTED;
* index dropped: ``--runs`` times, measure ``public`` (SELECT), drop ``orders_customer_idx``,
  replay the same queries, compare at 1.5 (detected = DEGRADATION_DETECTED naming
  "SELECT orders by customer_id"), recreate the index.

Only the server of DATABASE_URL is used; the benchmark database is dropped at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from psycopg import sql  # noqa: E402

from baselines_app.engines.baselines import (measure_performance_baselines, remeasure_baselines,  # noqa: E402
                                             validate_performance)
from migrations_app.engines.connections import TargetConnection  # noqa: E402

DEMO = ROOT / "migrations_app" / "demo"


@dataclasses.dataclass
class Config:
    performance_baselines_enabled: bool = True
    baseline_query_timeout_seconds: float = 30
    performance_degradation_threshold: float = 1.5
    min_baseline_queries: int = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    server = TargetConnection.from_dsn(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = f"dfbench_bl_{uuid.uuid4().hex[:8]}"
    admin = server.for_database("postgres")
    with admin.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    target = server.for_database(name).with_options(statement_timeout_ms=120_000)
    try:
        started = time.perf_counter()
        with target.connect(autocommit=True, statement_timeout_ms=300_000) as conn:
            conn.execute((DEMO / "demo_shop_schema.sql").read_text())
            conn.execute((DEMO / "demo_shop_data.sql").read_text())
        print(f"loaded demo_shop into {name} in {time.perf_counter() - started:.1f} s")
        run(target, args.runs)
    finally:
        with admin.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        print(f"dropped {name}")


def run(target: TargetConnection, runs: int) -> None:
    config = Config()
    started = time.perf_counter()
    full = []
    for schema in ("public", "billing"):
        full += measure_performance_baselines(target, schema=schema, config=config)
    elapsed = time.perf_counter() - started
    measured = sum(b.status == "measured" for b in full)
    print(f"full baseline (public + billing, 4 query types, {config.min_baseline_queries} timed runs + 2 warm-up): "
          f"{elapsed:.1f} s, {len(full)} queries, {measured} measured, "
          f"{sum(b.status == 'skipped' for b in full)} skipped")

    started = time.perf_counter()
    previous = measure_performance_baselines(target, schema="public", config=config)
    alarms, noisy_queries, factors = 0, {}, []
    for _ in range(runs):
        current = remeasure_baselines(target, previous, config)
        validation = validate_performance(previous, current, config, threshold_multiplier=1.5)
        factors.append(validation.environment_factor)
        if validation.validation_status == "DEGRADATION_DETECTED":
            alarms += 1
            for d in validation.degradations:
                noisy_queries[d.query_label] = noisy_queries.get(d.query_label, 0) + 1
        elif validation.validation_status != "PASS":
            print(f"  A/A comparison ended {validation.validation_status}: "
                  f"{[(c.query_label, c.reason) for c in validation.comparisons if c.status not in ('PASS', 'NOT_COMPARED')]}")
        previous = current
    compared = sum(c.status == "PASS" for c in validation.comparisons)
    print(f"A/A: {alarms}/{runs} comparisons raised a false alarm ({100 * alarms / runs:.0f}%), {compared} queries each, "
          f"environment factor median {statistics.median(factors):.2f} max {max(factors):.2f}, "
          f"{time.perf_counter() - started:.1f} s")
    for label, count in sorted(noisy_queries.items(), key=lambda item: -item[1]):
        print(f"  false alarm on {label}: {count}x")

    started = time.perf_counter()
    detected, ratios = 0, []
    for _ in range(runs):
        before = measure_performance_baselines(target, schema="public", query_types=["SELECT"], config=config)
        with target.connect(autocommit=True) as conn:
            conn.execute("DROP INDEX public.orders_customer_idx")
        try:
            after = remeasure_baselines(target, before, config)
        finally:
            with target.connect(autocommit=True) as conn:
                conn.execute("CREATE INDEX orders_customer_idx ON public.orders (customer_id)")
        validation = validate_performance(before, after, config, threshold_multiplier=1.5)
        hit = [d for d in validation.degradations if d.query_id == "SELECT:public.orders:eq:customer_id"]
        if validation.validation_status == "DEGRADATION_DETECTED" and hit:
            detected += 1
            ratios.append(hit[0].performance_ratio)
    print(f"index dropped: detected {detected}/{runs} ({100 * detected / runs:.0f}%), "
          f"ratio median {statistics.median(ratios) if ratios else float('nan'):.1f}x, {time.perf_counter() - started:.1f} s")
    if ratios:
        print(f"  plan change: {hit[0].plan_change if hit else '-'}")


if __name__ == "__main__":
    main()
