"""Benchmark the column dependency analysis against its anchors, in the same run.

    python benchmarks/bench_dependencies.py --dsn DSN [--functions-dsn DSN2]
        [--kailash-python /path/to/python] [--rounds 7] [--samples 15]

``--dsn``: a database made by ``gen_schema.py --tables 5000``; ``--functions-dsn``: one made
with ``--functions 1000`` too. Measures, each against an anchor timed in the same rounds:

- warm: ``analyze_column_dependencies`` on one kept connection (both statements past
  psycopg's prepare threshold) against one plain ``pg_depend`` lookup;
- cold: a new connection per analysis (what the CLI pays, and a worker's first analysis of a
  target: ``TargetConnection.read_only()``, the path every analysis took before the pool)
  against a new connection and the lookup;
- pooled: ``DependencyAnalyzer(TargetConnection)`` once the process' pool holds a session on
  the target (a worker's later analyses: ``targets/engines/pool.py``; the session is checked
  out, the prepared query runs on its generic plan, the session is rolled back and reset on
  return), against the same new-connection lookup;
- functions: the 1,000-routine schema, columns ``id`` and ``label`` (every body names them);
- the kailash-dataflow analyzer (``kailash_anchor.py`` under ``--kailash-python``, an
  interpreter with ``pip install kailash-dataflow``), warm and cold, when given.

Rounds alternate the measures (rotated order, a fresh random sample of columns each round);
figures are medians of the per-round medians, and ratios medians of per-round ratios.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migrations_app.engines.dependencies import DependencyAnalyzer, TableRenameAnalyzer  # noqa: E402
from targets.engines.connections import TargetConnection  # noqa: E402

SINGLE_LOOKUP = """SELECT classid, objid, deptype FROM pg_depend
WHERE refclassid = 'pg_class'::regclass AND refobjid = %(relid)s AND refobjsubid = %(attnum)s"""
COLUMNS = """SELECT c.relname, a.attname, c.oid, a.attnum FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped"""


def _ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


class Kailash:
    """The anchor analyzer in its own interpreter, one request per analysis."""

    def __init__(self, python: str):
        script = Path(__file__).resolve().parent / "kailash_anchor.py"
        self.proc = subprocess.Popen([python, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def analyze(self, dsn: str, table: str, column: str, cold: bool) -> float:
        self.proc.stdin.write(json.dumps({"dsn": dsn, "table": table, "column": column, "cold": cold}) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise SystemExit("the kailash anchor stopped (is kailash-dataflow installed for that interpreter?)")
        return json.loads(answer)["ms"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def run_rounds(measures: dict, sample_for_round, rounds: int) -> dict[str, list[float]]:
    """Per-round medians of each measure; the order of the measures rotates every round."""
    names = list(measures)
    medians: dict[str, list[float]] = {name: [] for name in names}
    for number in range(rounds):
        sample = sample_for_round(number)
        for name in names[number % len(names):] + names[:number % len(names)]:
            medians[name].append(statistics.median(measures[name](*item) for item in sample))
    return medians


def _ratio(medians, over, under) -> float:
    return statistics.median(a / b for a, b in zip(medians[over], medians[under]))


def floors(dsn: str, rounds: int, rng: random.Random) -> None:
    """What any analysis pays, beside the anchors, medians over ``rounds`` rounds:

    - on a kept session: a prepared ``SELECT 1`` round trip, the prepared ``pg_depend`` lookup (the warm
      anchor), one ``pg_get_viewdef``, the column analysis;
    - on new sessions: connect; the lookup as a new session's first statement; the analysis statement as a
      new session's first statement, then again on that session (caches filled: parse, plan, run) and as
      a prepared generic plan (what a pooled session runs). First minus second is the backend filling its
      catalog caches; no analysis on a new backend can skip connect + that fill + execution."""
    from migrations_app.engines.catalog import query
    statement = query("dep_analysis")
    kept = {"SELECT 1 round trip": [], "pg_depend lookup (warm anchor)": [], "one pg_get_viewdef": [],
            "column analysis": []}
    fresh = {"connect": [], "lookup as a new session's first statement": [],
             "analysis statement, first on a new session": [], "same, again on that session": [],
             "same, prepared generic plan": []}
    with psycopg.connect(dsn, autocommit=True) as conn:
        columns = conn.execute(COLUMNS).fetchall()
        views = [row[0] for row in conn.execute("SELECT oid FROM pg_class WHERE relkind = 'v' LIMIT 1000")]
        analyzer = DependencyAnalyzer(conn)
        for _ in range(rounds):
            table, column, relid, attnum = rng.choice(columns)
            view = rng.choice(views) if views else None
            lookup = {"relid": relid, "attnum": attnum}
            work = {"SELECT 1 round trip": lambda: conn.execute("SELECT 1", prepare=True).fetchall(),
                    "pg_depend lookup (warm anchor)": lambda: conn.execute(SINGLE_LOOKUP, lookup, prepare=True).fetchall(),
                    "one pg_get_viewdef": lambda: conn.execute("SELECT pg_get_viewdef(%s::oid)", [view],
                                                               prepare=True).fetchall(),
                    "column analysis": lambda: analyzer.analyze_column_dependencies(table, column)}
            for name, fn in work.items():
                if name == "one pg_get_viewdef" and view is None:
                    continue
                for _ in range(10):
                    fn()
                kept[name].append(statistics.median(_ms(fn) for _ in range(50)))
            params = {"schema": "public", "table": table, "column": column}
            started = time.perf_counter()
            with psycopg.connect(dsn, autocommit=True) as new:
                fresh["connect"].append((time.perf_counter() - started) * 1000)
                fresh["lookup as a new session's first statement"].append(
                    _ms(lambda: new.execute(SINGLE_LOOKUP, lookup).fetchall()))
            with psycopg.connect(dsn, autocommit=True, options="-c plan_cache_mode=force_generic_plan") as new:
                new.execute("SELECT 1")
                fresh["analysis statement, first on a new session"].append(
                    _ms(lambda: new.execute(statement, params).fetchall()))
                fresh["same, again on that session"].append(_ms(lambda: new.execute(statement, params).fetchall()))
                new.execute(statement, params, prepare=True).fetchall()
                fresh["same, prepared generic plan"].append(
                    _ms(lambda: new.execute(statement, params, prepare=True).fetchall()))
    anchor = statistics.median(kept["pg_depend lookup (warm anchor)"])
    print(f"floors, {rounds} rounds; load average {os.getloadavg()[0]:.2f}")
    for name, values in kept.items():
        if values:
            print(f"  kept session  {name:46s} {statistics.median(values):7.3f} ms  "
                  f"{statistics.median(values) / anchor:6.1f}x the warm lookup")
    med = {name: statistics.median(values) for name, values in fresh.items()}
    cold_anchor = med["connect"] + med["lookup as a new session's first statement"]
    for name, value in med.items():
        print(f"  new sessions  {name:46s} {value:7.2f} ms")
    fill = med["analysis statement, first on a new session"] - med["same, again on that session"]
    floor = med["connect"] + max(fill, 0) + med["same, prepared generic plan"]
    print(f"  catalog cache fill of a new backend (first - again): {fill:.2f} ms")
    print(f"  a new session's analysis cannot take less than connect + fill + execution = {floor:.2f} ms = "
          f"{floor / cold_anchor:.2f}x the cold lookup ({cold_anchor:.2f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--functions-dsn")
    parser.add_argument("--kailash-python")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--floors", action="store_true",
                        help="only the floors under the two goals: round trips and definitions on a kept session, "
                             "and where a new session's first analysis spends its time")
    args = parser.parse_args()
    if args.floors:
        floors(args.dsn, args.rounds, random.Random(args.seed))
        return
    rng = random.Random(args.seed)
    kailash = Kailash(args.kailash_python) if args.kailash_python else None
    target = TargetConnection.from_dsn(args.dsn)
    results: list[tuple[str, dict, list[str]]] = []

    with psycopg.connect(args.dsn, autocommit=True) as conn:
        columns = conn.execute(COLUMNS).fetchall()
        analyzer = DependencyAnalyzer(conn)
        for table, column, relid, attnum in columns[:(conn.prepare_threshold or 0) + 2]:
            analyzer.analyze_column_dependencies(table, column)
            conn.execute(SINGLE_LOOKUP, {"relid": relid, "attnum": attnum}).fetchall()

        def cold_lookup(table, column, relid, attnum):
            def run():
                with psycopg.connect(autocommit=True, **target.conninfo_kwargs(read_only=True)) as fresh:
                    fresh.execute(SINGLE_LOOKUP, {"relid": relid, "attnum": attnum}).fetchall()
            return _ms(run)

        def cold_analysis(table, column):
            with target.read_only() as fresh:
                DependencyAnalyzer(fresh).analyze_column_dependencies(table, column)

        DependencyAnalyzer(target).analyze_column_dependencies(*columns[0][:2])  # the pool's first session
        measures = {
            "warm analysis": lambda t, c, r, a: _ms(lambda: analyzer.analyze_column_dependencies(t, c)),
            "warm lookup": lambda t, c, r, a: _ms(lambda: conn.execute(SINGLE_LOOKUP, {"relid": r, "attnum": a}).fetchall()),
            "cold analysis": lambda t, c, r, a: _ms(lambda: cold_analysis(t, c)),
            "pooled analysis": lambda t, c, r, a: _ms(lambda: DependencyAnalyzer(target).analyze_column_dependencies(t, c)),
            "cold lookup": cold_lookup,
        }
        if kailash:
            measures["kailash warm"] = lambda t, c, r, a: kailash.analyze(args.dsn, t, c, False)
            measures["kailash cold"] = lambda t, c, r, a: kailash.analyze(args.dsn, t, c, True)
        medians = run_rounds(measures, lambda n: rng.sample(columns, args.samples), args.rounds)
        notes = [f"warm analysis / warm lookup: {_ratio(medians, 'warm analysis', 'warm lookup'):.1f}x (goal <= 4x)",
                 f"cold analysis / cold lookup: {_ratio(medians, 'cold analysis', 'cold lookup'):.1f}x (goal <= 2x)",
                 f"pooled analysis / cold lookup: {_ratio(medians, 'pooled analysis', 'cold lookup'):.2f}x "
                 f"(goal <= 2x; pooled / cold analysis {_ratio(medians, 'pooled analysis', 'cold analysis'):.2f}x)"]
        results.append((f"{len(columns)} columns of the plain schema", medians, notes))

        renamer = TableRenameAnalyzer(conn)
        table = columns[0][0]
        for _ in range((conn.prepare_threshold or 0) + 2):
            renamer.analyze_table_rename(table, table + "_renamed")
        rename = [_ms(lambda: renamer.analyze_table_rename(table, table + "_renamed")) for _ in range(10)]

    if args.functions_dsn:
        with psycopg.connect(args.functions_dsn, autocommit=True) as conn:
            routines = conn.execute("SELECT count(*) FROM pg_proc WHERE oid >= 16384").fetchone()[0]
            tables = [row[0] for row in conn.execute(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace")]
            analyzer = DependencyAnalyzer(conn)
            for name in tables[:(conn.prepare_threshold or 0) + 2]:
                analyzer.analyze_column_dependencies(name, "id")
            for column in ("id", "label"):
                measures = {"warm analysis": lambda t, c, r, a: _ms(lambda: analyzer.analyze_column_dependencies(t, c))}
                if kailash:
                    measures["kailash warm"] = lambda t, c, r, a: kailash.analyze(args.functions_dsn, t, c, False)
                medians = run_rounds(measures, lambda n, column=column: [
                    (name, column, None, None) for name in rng.sample(tables, args.samples)], args.rounds)
                results.append((f"{len(tables)} tables + {routines} routines, column {column}", medians,
                                ["goal: warm analysis <= 20 ms"]))
    if kailash:
        kailash.close()

    print(f"{args.rounds} alternating rounds of {args.samples} analyses; load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for title, medians, notes in results:
        print(f"\n{title}")
        for name, values in medians.items():
            print(f"  {name:<16} median {statistics.median(values):8.2f} ms"
                  f"  (round medians {min(values):.2f} .. {max(values):.2f})")
        for note in notes:
            print(f"  {note}")
    print(f"\nanalyze_table_rename (warm): median {statistics.median(rename):.2f} ms over 10 runs")


if __name__ == "__main__":
    main()
