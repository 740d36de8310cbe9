"""Performance baseline benchmark: A/A false alarms and detection of 1.5x-3x slowdowns at threshold 1.5.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/bench_baselines.py

Creates ``dfbench_bl_<random>`` from the demo_shop schema and data (migrations_app/demo), then:

* full baseline: every table of ``public`` and ``billing``, all four query types, timed;
* A/A, the app's own path: ``--runs + 1`` measurements of ``public`` (all query types) on the
  unchanged database, each re-measured with ``remeasure_baselines`` (sequential sampling on)
  and compared with the previous at threshold 1.5; a false alarm is a comparison whose status
  is DEGRADATION_DETECTED;
* slowdowns of 1.5x, 2x, 2.5x, 3x, scaled from real A/A pairs: ``--runs + 1`` measurements
  with ``max_baseline_queries`` samples per query; each consecutive pair is one "before" (its
  first ``min_baseline_queries`` samples) and one "after" whose samples of ONE query are
  multiplied by the slowdown. The engine's sequential rule is replayed over the after samples
  (``undecided_queries`` decides who gets the next ten, in the order they were measured) and
  ``validate_performance`` judges. Detected = that query is DEGRADED. Every query whose
  baseline median is at least noise floor / 0.5 (so that even a 1.5x slowdown of it exceeds
  the 0.05 ms noise floor) is a trial in every pair; faster queries pass by design;
* index dropped: ``--runs`` times, measure ``public`` (SELECT), drop ``orders_customer_idx``,
  replay the same queries, compare at 1.5, recreate the index.

Only the server of DATABASE_URL is used; the benchmark database is dropped at the end.

``--record FILE`` measures only the slowdown pairs and saves them; ``--replay FILE`` (no database)
judges them with the engine as it is now: the same data before and after a change to the
decision. The replay also counts A/A false alarms over the unscaled consecutive pairs, and
takes each "before" as the engine would have measured it (``baseline_as_measured``: ten
samples, more while ``baseline_needs_more``). ``--aa-only`` runs only the live A/A part.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
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
from baselines_app.engines.comparison import NOISE_FLOOR_MS, baseline_needs_more, undecided_queries  # noqa: E402
from baselines_app.engines.measured import QueryBaseline  # noqa: E402
from targets.engines.connections import TargetConnection  # noqa: E402

DEMO = ROOT / "migrations_app" / "demo"
THRESHOLD = 1.5
SLOWDOWNS = (1.5, 2.0, 2.5, 3.0)


@dataclasses.dataclass
class Config:
    performance_baselines_enabled: bool = True
    baseline_query_timeout_seconds: float = 30
    performance_degradation_threshold: float = THRESHOLD
    min_baseline_queries: int = 10
    max_baseline_queries: int = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--record", type=Path, help="measure only the slowdown pairs (--runs + 1 measurements) and "
                        "save them as JSON for --replay")
    parser.add_argument("--replay", type=Path, help="no database: judge the A/A and scaled slowdowns of a --record file "
                        "with the engine as it is now (reproducible, the same data before and after a change)")
    parser.add_argument("--aa-only", action="store_true", help="only the live A/A part (remeasure_baselines, sequential)")
    parser.add_argument("--fresh-baseline", action="store_true", help="A/A: measure a new baseline for every comparison "
                        "(measure_performance_baselines, as the app does) instead of chaining remeasures")
    args = parser.parse_args()
    if args.replay:
        measurements = [[QueryBaseline.from_dict(b) for b in m] for m in json.loads(args.replay.read_text())]
        print(f"replaying {len(measurements)} recorded measurements from {args.replay}")
        replay_a_a(measurements, Config())
        analyse(measurements, Config())
        return
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
        if args.aa_only:
            a_a(target, Config(), args.runs, fresh=args.fresh_baseline)
        elif args.record:
            measurements = record(target, Config(), args.runs)
            args.record.write_text(json.dumps([[b.to_dict() for b in m] for m in measurements]))
            print(f"recorded {len(measurements)} measurements to {args.record}")
            replay_a_a(measurements, Config())
            analyse(measurements, Config())
        else:
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
    print(f"full baseline (public + billing, 4 query types, {config.min_baseline_queries} timed runs + 2 warm-up): "
          f"{time.perf_counter() - started:.1f} s, {len(full)} queries, {sum(b.status == 'measured' for b in full)} measured, "
          f"{sum(b.status == 'skipped' for b in full)} skipped")
    false_alarms = a_a(target, config, runs)
    rates = slowdowns(target, config, runs)
    print(f"threshold {THRESHOLD}: A/A false alarms {false_alarms}/{runs} ({100 * false_alarms / runs:.0f}%); detected "
          + ", ".join(f"{k:g}x {hits}/{trials} ({100 * hits / trials:.0f}%)" for k, (hits, trials) in rates.items()))
    index_dropped(target, config, runs)


def a_a(target: TargetConnection, config: Config, runs: int, fresh: bool = False) -> int:
    started = time.perf_counter()
    previous = measure_performance_baselines(target, schema="public", config=config)
    alarms, noisy, factors, extended, samples, seconds = 0, {}, [], [], [], []
    baseline_samples = [sum(len(b.samples) for b in previous)]
    print(f"  first baseline: {sum(len(b.samples) for b in previous)} samples "
          f"({sum(len(b.samples) > config.min_baseline_queries for b in previous)} noisy queries sampled further), "
          f"{time.perf_counter() - started:.1f} s")
    for trial in range(runs):
        if fresh and trial:
            previous = measure_performance_baselines(target, schema="public", config=config)
            baseline_samples.append(sum(len(b.samples) for b in previous))
        measured_at = time.perf_counter()
        current = remeasure_baselines(target, previous, config)
        seconds.append(time.perf_counter() - measured_at)
        samples.append(sum(len(b.samples) for b in current))
        validation = validate_performance(previous, current, config, threshold_multiplier=THRESHOLD)
        factors.append(validation.environment_factor)
        extended.append(sum(len(b.samples) > config.min_baseline_queries for b in current))
        if validation.validation_status == "DEGRADATION_DETECTED":
            alarms += 1
            for d in validation.degradations:
                noisy[d.query_label] = noisy.get(d.query_label, 0) + 1
        elif validation.validation_status != "PASS":
            print(f"  A/A comparison ended {validation.validation_status}: "
                  f"{[(c.query_label, c.reason) for c in validation.comparisons if c.status not in ('PASS', 'NOT_COMPARED')]}")
        previous = current
    compared = sum(c.status == "PASS" for c in validation.comparisons)
    print(f"A/A (remeasure_baselines, sequential): {alarms}/{runs} comparisons raised a false alarm "
          f"({100 * alarms / runs:.0f}%), {compared} queries each, {statistics.mean(extended):.1f} queries per comparison "
          f"sampled beyond {config.min_baseline_queries}, environment factor median {statistics.median(factors):.2f} "
          f"max {max(factors):.2f}, {time.perf_counter() - started:.1f} s; after side: {statistics.mean(samples):.0f} samples, "
          f"{statistics.mean(seconds):.1f} s per comparison; baseline: {statistics.mean(baseline_samples):.0f} samples "
          f"(mean of {len(baseline_samples)})")
    for label, count in sorted(noisy.items(), key=lambda item: -item[1]):
        print(f"  false alarm on {label}: {count}x")
    return alarms


def record(target: TargetConnection, config: Config, runs: int) -> list[list]:
    """``runs + 1`` measurements of ``public`` with ``max_baseline_queries`` samples per query."""
    started = time.perf_counter()
    long = dataclasses.replace(config, min_baseline_queries=config.max_baseline_queries)
    measurements = [measure_performance_baselines(target, schema="public", config=long)]
    for _ in range(runs):
        measurements.append(remeasure_baselines(target, measurements[-1], long, sequential=False))
    print(f"{runs + 1} measurements of {config.max_baseline_queries} samples in {time.perf_counter() - started:.1f} s")
    return measurements


def slowdowns(target: TargetConnection, config: Config, runs: int) -> dict[float, tuple[int, int]]:
    return analyse(record(target, config, runs), config)


def baseline_as_measured(before_full, config: Config) -> list:
    """The "before" side as the engine would have measured it: its first ``min_baseline_queries``
    samples, and more, ten at a time, while ``baseline_needs_more`` says so (the recorded
    measurement holds ``max_baseline_queries``)."""
    before = []
    for b in before_full:
        taken = config.min_baseline_queries
        while (taken < min(config.max_baseline_queries, len(b.samples))
               and baseline_needs_more(b.samples[:taken], THRESHOLD, config)):
            taken += config.min_baseline_queries
        before.append(dataclasses.replace(b, samples=b.samples[:taken], sample_keys=b.sample_keys[:taken]))
    return before


def replay_a_a(measurements: list[list], config: Config) -> int:
    """Consecutive recorded measurements as A/A comparisons, the after side sampled sequentially."""
    alarms, noisy, samples = 0, {}, []
    for before_full, after_full in zip(measurements, measurements[1:]):
        before = baseline_as_measured(before_full, config)
        validation, taken = replay_sequential(before, after_full, config, None, 1.0, with_samples=True)
        samples.append(sum(len(b.samples) for b in before if b.status == "measured") + taken)
        if validation.validation_status == "DEGRADATION_DETECTED":
            alarms += 1
            for d in validation.degradations:
                noisy[d.query_label] = noisy.get(d.query_label, 0) + 1
    pairs = len(measurements) - 1
    print(f"A/A (replayed): {alarms}/{pairs} false alarms ({100 * alarms / pairs:.0f}%), samples per comparison "
          f"(before + after) mean {statistics.mean(samples):.0f}")
    for label, count in sorted(noisy.items(), key=lambda item: -item[1]):
        print(f"  false alarm on {label}: {count}x")
    return alarms


def analyse(measurements: list[list], config: Config) -> dict[float, tuple[int, int]]:
    runs = len(measurements) - 1
    rates, misses = {}, []
    for k in SLOWDOWNS:
        hits = trials = 0
        for before_full, after_full in zip(measurements, measurements[1:]):
            before = baseline_as_measured(before_full, config)
            eligible = [b.query_id for b in before if b.status == "measured" and b.samples
                        and statistics.median(b.samples[:config.min_baseline_queries]) * (SLOWDOWNS[0] - 1) >= NOISE_FLOOR_MS]
            for query_id in eligible:
                validation = replay_sequential(before, after_full, config, query_id, k)
                hit = next(c for c in validation.comparisons if c.query_id == query_id)
                trials += 1
                hits += hit.status == "DEGRADED"
                if hit.status != "DEGRADED" and k >= 2:
                    interval = (f"interval {hit.ratio_ci_low:.2f}-{hit.ratio_ci_high:.2f}, " if hit.ratio_ci_low is not None
                                else "no interval, ")
                    misses.append(f"{k:g}x {hit.query_label}: {hit.reason or hit.status} ({interval}{hit.after_samples} samples)")
        rates[k] = (hits, trials)
        print(f"slowdown {k:g}x (one query scaled in a real A/A pair): detected {hits}/{trials} ({100 * hits / trials:.0f}%)")
    print(f"  {len(eligible)} queries eligible per pair, {runs} pairs")
    for miss in misses:
        print(f"  missed {miss}")
    return rates


def replay_sequential(before, after_full, config: Config, query_id: str | None, k: float, with_samples: bool = False):
    """The engine's sequential rule over samples already measured: start with the first ten of
    every query, give the next ten to each query whose interval still straddles the threshold."""
    taken = {b.query_id: config.min_baseline_queries for b in after_full}

    def after_now():
        return [dataclasses.replace(b, samples=[v * (k if b.query_id == query_id else 1.0)
                                                for v in b.samples[:taken[b.query_id]]],
                                    sample_keys=b.sample_keys[:taken[b.query_id]]) for b in after_full]

    while True:
        pending = [q for q in undecided_queries(before, after_now(), config, THRESHOLD)
                   if taken[q] < config.max_baseline_queries]
        if not pending:
            validation = validate_performance(before, after_now(), config, threshold_multiplier=THRESHOLD)
            if with_samples:
                return validation, sum(min(taken[b.query_id], len(b.samples)) for b in after_full if b.status == "measured")
            return validation
        for q in pending:
            taken[q] += config.min_baseline_queries


def index_dropped(target: TargetConnection, config: Config, runs: int) -> None:
    started = time.perf_counter()
    detected, ratios, hit = 0, [], []
    for _ in range(runs):
        before = measure_performance_baselines(target, schema="public", query_types=["SELECT"], config=config)
        with target.connect(autocommit=True) as conn:
            conn.execute("DROP INDEX public.orders_customer_idx")
        try:
            after = remeasure_baselines(target, before, config)
        finally:
            with target.connect(autocommit=True) as conn:
                conn.execute("CREATE INDEX orders_customer_idx ON public.orders (customer_id)")
        validation = validate_performance(before, after, config, threshold_multiplier=THRESHOLD)
        hit = [d for d in validation.degradations if d.query_id == "SELECT:public.orders:eq:customer_id"]
        if validation.validation_status == "DEGRADATION_DETECTED" and hit:
            detected += 1
            ratios.append(hit[0].performance_ratio)
    print(f"index dropped: detected {detected}/{runs} ({100 * detected / runs:.0f}%), "
          f"ratio median {statistics.median(ratios) if ratios else float('nan'):.1f}x, {time.perf_counter() - started:.1f} s")
    if hit:
        print(f"  plan change: {hit[0].plan_change}")


if __name__ == "__main__":
    main()
