"""Benchmark the dependency and rename analyzers on a warm connection.

``python benchmarks/bench_dependencies.py --dsn DSN [--samples 100]`` against a database
made by ``gen_schema.py``. Prints the median and p95 of ``analyze_column_dependencies`` over
random columns, a single pg_depend lookup for the same columns, their ratio, and the
table rename analysis time.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migrations_app.engines.dependencies import DependencyAnalyzer, TableRenameAnalyzer  # noqa: E402

SINGLE_LOOKUP = """SELECT classid, objid, deptype FROM pg_depend
WHERE refclassid = 'pg_class'::regclass AND refobjid = %(relid)s AND refobjsubid = %(attnum)s"""


def _ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def p95(values):
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        columns = conn.execute("""SELECT c.relname, a.attname, c.oid, a.attnum FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped""").fetchall()
        sample = rng.sample(columns, args.samples)
        analyzer = DependencyAnalyzer(conn)
        # A warm connection: both measured statements are run past psycopg's prepare threshold
        # (server-side prepared, generic plan cached) before timing, so neither pays for
        # planning inside the sample and both are measured in the same prepared state.
        for table, column, relid, attnum in columns[:(conn.prepare_threshold or 0) + 2]:
            analyzer.analyze_column_dependencies(table, column)
            conn.execute(SINGLE_LOOKUP, {"relid": relid, "attnum": attnum}).fetchall()
        full, single = [], []
        for table, column, relid, attnum in sample:
            full.append(_ms(lambda: analyzer.analyze_column_dependencies(table, column)))
            single.append(_ms(lambda: conn.execute(SINGLE_LOOKUP, {"relid": relid, "attnum": attnum}).fetchall()))
        renamer = TableRenameAnalyzer(conn)
        table = sample[0][0]
        for _ in range((conn.prepare_threshold or 0) + 2):
            renamer.analyze_table_rename(table, table + "_renamed")
        rename = [_ms(lambda: renamer.analyze_table_rename(table, table + "_renamed")) for _ in range(10)]
    med, med_single = statistics.median(full), statistics.median(single)
    print(f"columns sampled:                 {len(sample)} of {len(columns)}"
          f" (load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)")
    print(f"analyze_column_dependencies:     median {med:.2f} ms, p95 {p95(full):.2f} ms")
    print(f"single pg_depend lookup:         median {med_single:.2f} ms, p95 {p95(single):.2f} ms")
    print(f"ratio (median/median):           {med / med_single:.1f}x")
    print(f"analyze_table_rename:            median {statistics.median(rename):.2f} ms over 10 runs")


if __name__ == "__main__":
    main()
