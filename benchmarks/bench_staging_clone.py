"""A rehearsal's clone of a staging copy vs making a fresh copy, same run, same server.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/bench_staging_clone.py --scale 0.25

Generates ``bench_staging.py``'s source (``dfbench_staging_src``, reused with --reuse-source),
then ``--repeat`` times, alternating: a fresh copy at ``--sample`` (create-to-ready:
``create_staging_environment`` + ``replicate_production_schema``, what a rehearsal cost before
clones when each needed its own copy), and a clone of one READY copy
(``staging_app.engines.clones.create_clone``: ``CREATE DATABASE ... TEMPLATE`` and the marker;
the drop through the guard timed apart). Medians are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_staging import SOURCE, admin, generate, heap_mb  # noqa: E402
from psycopg import sql  # noqa: E402
from staging_app.engines.clones import create_clone  # noqa: E402
from staging_app.engines.guard import drop_clone_database, drop_staging_database  # noqa: E402
from staging_app.engines.staging_environment_manager import (StagingEnvironmentConfig,  # noqa: E402
                                                            StagingEnvironmentManager)
from targets.engines.connections import TargetConnection  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--sample", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse-source", action="store_true")
    args = parser.parse_args()
    server = TargetConnection.from_dsn(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                                       dbname="postgres", statement_timeout_ms=0)
    source = server.for_database(SOURCE)
    with admin(server) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [SOURCE]).fetchone()
    if not (args.reuse_source and exists):
        generate(server, source, args.scale)
    manager = StagingEnvironmentManager(StagingEnvironmentConfig(max_staging_environments=args.repeat + 1))
    kept = manager.create_staging_environment(source, args.sample, sample_seed=1)
    fresh, clones, drops = [], [], []
    try:
        manager.replicate_production_schema(kept.staging_id)
        copy_mb = heap_mb(server.for_database(kept.database_name))
        for round_number in range(1, args.repeat + 1):
            started = time.monotonic()
            env = manager.create_staging_environment(source, args.sample, sample_seed=round_number)
            try:
                manager.replicate_production_schema(env.staging_id)
                fresh.append(time.monotonic() - started)
            finally:
                drop_staging_database(server, env.database_name, env.staging_id)
            started = time.monotonic()
            clone, _create_seconds = create_clone(server, kept.database_name, kept.staging_id, round_number)
            clones.append(time.monotonic() - started)
            started = time.monotonic()
            drop_clone_database(server, clone, kept.staging_id, round_number)
            drops.append(time.monotonic() - started)
    finally:
        drop_staging_database(server, kept.database_name, kept.staging_id)
    print(f"source {SOURCE}: {heap_mb(source):.0f} MB heap; copy at {args.sample:.0%}: {copy_mb:.1f} MB heap")
    print(f"fresh copy, create-to-ready: median {statistics.median(fresh):.2f} s {[round(x, 2) for x in fresh]}")
    print(f"clone of the copy (TEMPLATE + marker): median {statistics.median(clones):.3f} s "
          f"{[round(x, 3) for x in clones]}; drop through the guard {statistics.median(drops):.3f} s")
    print(f"clone is {statistics.median(fresh) / statistics.median(clones):.0f}x faster than a fresh copy")


if __name__ == "__main__":
    main()
