"""Staging copy benchmark: our 10% FK-closed sample vs ``pg_dump | psql`` of exactly the same rows,
same run, same server, set-up included on both sides.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/bench_staging.py --scale 1
    ... bench_staging.py --demo      # create-to-ready of demo_shop at 10% (loaded into dfbench_demo_stg)

Creates ``dfbench_staging_src`` (about 290 MB of heap at --scale 1, plus indexes), then
``--repeat`` times, alternating:

* ours: ``create_staging_environment`` + ``replicate_production_schema`` (CREATE DATABASE,
  pre-data, sampling and the foreign-key closure streamed into staging, sequences, post-data,
  ANALYZE): create-to-ready;
* theirs, the anchor: the rows our copy landed (exactly the sampled rows; they are dumped from
  our staging copy before it is dropped) copied the way a DBA would: CREATE DATABASE,
  ``pg_dump --section=pre-data | psql``, ``pg_dump --data-only | psql``, ``pg_dump
  --section=post-data | psql``, ANALYZE.

"MB landed" is the heap size of the copied tables in the destination (pg_table_size), the
same rows on both sides. The headline ratio is MB/s of create-to-ready (ours / theirs); the
data phase alone (ours: ``ReplicationResult.data_seconds``, picking and streaming the rows;
theirs: the ``--data-only`` pipe) is printed beside it. Peak RSS is this process's (our
engine's); the children (pg_dump, psql, pg_restore) are reported separately.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from psycopg import sql  # noqa: E402

from staging_app.engines.sampling import SampleSet  # noqa: E402
from staging_app.engines.schema_copy import client_program  # noqa: E402
from targets.engines.connections import TargetConnection  # noqa: E402
from staging_app.engines.staging_environment_manager import (StagingEnvironmentConfig,  # noqa: E402
                                                            StagingEnvironmentManager)

SOURCE, ANCHOR, DEMO = "dfbench_staging_src", "dfbench_staging_anchor", "dfbench_demo_stg"

SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, full_name text NOT NULL,
                        referred_by bigint, created_at timestamptz NOT NULL);
CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, placed_at timestamptz NOT NULL,
                     status text NOT NULL, total numeric(12,2) NOT NULL, note text);
CREATE TABLE order_items (order_id bigint NOT NULL, line int NOT NULL, product_id int NOT NULL,
                          qty int NOT NULL, price numeric(10,2) NOT NULL, PRIMARY KEY (order_id, line));
"""
DATA = """
INSERT INTO products SELECT g, 'product ' || g, (g % 500) + 0.99 FROM generate_series(1, 10000) g;
INSERT INTO customers SELECT g, 'customer' || g || '@example.com', 'Customer Number ' || g,
       CASE WHEN g > 1 AND g %% 3 = 0 THEN (g::bigint * 7919) %% (g - 1) + 1 END,
       timestamptz '2020-01-01' + g * interval '1 minute'
FROM generate_series(1, %(customers)s) g;
INSERT INTO orders SELECT g, (g * 31) %% %(customers)s + 1, timestamptz '2021-01-01' + g * interval '20 seconds',
       (ARRAY['new','paid','shipped','returned'])[g %% 4 + 1], (g %% 997) * 1.37, repeat('n', g %% 40)
FROM generate_series(1, %(orders)s) g;
INSERT INTO order_items SELECT o, l, (o * 13 + l) %% 10000 + 1, l, ((o + l) %% 300) + 0.5
FROM generate_series(1, %(orders)s) o, generate_series(1, 2) l;
ALTER TABLE customers ADD FOREIGN KEY (referred_by) REFERENCES customers (id);
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE order_items ADD FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE order_items ADD FOREIGN KEY (product_id) REFERENCES products (id);
VACUUM ANALYZE;
"""


def admin(server: TargetConnection):
    return server.connect(autocommit=True)


def heap_mb(conn_info: TargetConnection) -> float:
    with conn_info.connect() as conn:
        return float(conn.execute("SELECT coalesce(sum(pg_table_size(c.oid)), 0) / 1e6 FROM pg_class c JOIN pg_namespace n ON n.oid = "
                            "c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'").fetchone()[0])


def pipe(source: TargetConnection, dbname: str, dest: TargetConnection, dest_dbname: str, *dump_args: str) -> None:
    dump = subprocess.Popen([client_program("pg_dump"), *dump_args, "--schema=public", dbname],
                            env={**os.environ, **source.libpq_env()}, stdout=subprocess.PIPE)
    subprocess.run([client_program("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dest_dbname],
                   stdin=dump.stdout, env={**os.environ, **dest.libpq_env()}, check=True, stdout=subprocess.DEVNULL)
    if dump.wait() != 0:
        raise RuntimeError(f"pg_dump {' '.join(dump_args)} failed")


def anchor_copy(server: TargetConnection, staged: TargetConnection, staged_name: str) -> tuple[float, float, float]:
    """pg_dump | psql of the rows our copy landed into a new database, set-up included;
    returns (MB landed, seconds create-to-ready, seconds of the data pipe)."""
    anchor = server.for_database(ANCHOR)
    started = time.monotonic()
    with admin(server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(ANCHOR)))
    try:
        with anchor.connect(autocommit=True) as conn:
            conn.execute("DROP SCHEMA public")  # the pre-data dump of --schema=public creates it
        pipe(staged, staged_name, anchor, ANCHOR, "--section=pre-data")
        data_started = time.monotonic()
        pipe(staged, staged_name, anchor, ANCHOR, "--data-only")
        data_seconds = time.monotonic() - data_started
        pipe(staged, staged_name, anchor, ANCHOR, "--section=post-data")
        with anchor.connect(autocommit=True) as conn:
            conn.execute("ANALYZE")
        seconds = time.monotonic() - started
        return heap_mb(anchor), seconds, data_seconds
    finally:
        with admin(server) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(ANCHOR)))


def generate(server: TargetConnection, source: TargetConnection, scale: float) -> None:
    with admin(server) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(SOURCE)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SOURCE)))
    started = time.monotonic()
    with source.connect(autocommit=True, statement_timeout_ms=0) as conn:
        conn.execute(SCHEMA)
        counts = {"customers": int(400_000 * scale), "orders": int(1_200_000 * scale)}
        for statement in DATA.strip().split(";\n"):
            conn.execute(statement, counts if "%(" in statement else None)
    print(f"generated {SOURCE}: {heap_mb(source):.0f} MB heap in {time.monotonic() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 400k customers, 1.2M orders, 2.4M items")
    parser.add_argument("--sample", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side, alternating; medians reported")
    parser.add_argument("--reuse-source", action="store_true", help="keep an existing source database (and keep it after)")
    parser.add_argument("--demo", action="store_true", help="measure create-to-ready of demo_shop at --sample instead")
    parser.add_argument("--ab-parent-lookups", action="store_true",
                        help="A/B in the same run: --repeat runs each without (A) and with (B) the closure's parent "
                             "key-index lookups and one-statement self references (SampleSet.parent_index_lookups), "
                             "alternating, each with its own anchor")
    args = parser.parse_args()
    server = TargetConnection.from_dsn(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                                       dbname="postgres", statement_timeout_ms=0)
    if args.demo:
        return demo(server, args.sample)
    source = server.for_database(SOURCE)
    manager = StagingEnvironmentManager(StagingEnvironmentConfig(max_staging_environments=1))
    ours, theirs = [], []
    try:
        with admin(server) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [SOURCE]).fetchone()
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(ANCHOR)))
        if not (args.reuse_source and exists):
            generate(server, source, args.scale)
        else:
            print(f"reusing {SOURCE}: {heap_mb(source):.0f} MB heap")
        variants = []
        for run in range(args.repeat * (2 if args.ab_parent_lookups else 1)):
            if args.ab_parent_lookups:
                SampleSet.parent_index_lookups = bool(run % 2)
                variants.append("B" if run % 2 else "A")
                print(f"[{variants[-1]}] ", end="")
            started = time.monotonic()
            env = manager.create_staging_environment(source, args.sample, sample_seed=1)
            try:
                result = manager.replicate_production_schema(env.staging_id)
                ready = time.monotonic() - started
                staged = server.for_database(env.database_name)
                landed = heap_mb(staged)
                ours.append((landed, result, ready))
                theirs.append(anchor_copy(server, staged, env.database_name))
            finally:
                print("cleanup:", manager.cleanup_staging_environment(env.staging_id)["cleanup_status"], end="; ")
            mb, seconds, data_seconds = theirs[-1]
            print(f"ours {landed:.1f} MB ready in {ready:.2f} s (data phase {result.data_seconds:.2f} s: sampled rows "
                  f"{result.sampling_seconds:.2f} s, closure rows {result.closure_seconds:.2f} s); theirs {mb:.1f} MB "
                  f"ready in {seconds:.2f} s (data pipe {data_seconds:.2f} s)")
    finally:
        if not args.reuse_source:
            with admin(server) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(SOURCE)))
    if args.ab_parent_lookups:
        for name in "AB":
            runs = [i for i, v in enumerate(variants) if v == name]
            ratios = [(ours[i][0] / ours[i][2]) / (theirs[i][0] / theirs[i][1]) for i in runs]
            print(f"{name} ({'with' if name == 'B' else 'without'} parent key-index lookups): create-to-ready ratios "
                  f"to "
                  f"the anchor {', '.join(f'{r:.2f}x' for r in ratios)}; median {statistics.median(ratios):.2f}x; "
                  f"median ours {statistics.median(ours[i][2] for i in runs):.2f} s, {ours[runs[0]][1].closure_passes} "
                  f"closure passes taking "
                  f"{statistics.median(ours[i][1].closure_seconds for i in runs):.2f} s, anchor "
                  f"{statistics.median(theirs[i][1] for i in runs):.2f} s")
    landed, result, _ = ours[0]
    ready_rate = statistics.median(mb / ready for mb, _, ready in ours)
    data_rate = statistics.median(mb / r.data_seconds for mb, r, _ in ours)
    theirs_ready = statistics.median(mb / seconds for mb, seconds, _ in theirs)
    theirs_data = statistics.median(mb / data_seconds for mb, _, data_seconds in theirs)
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"ours   ({args.sample:.0%} sample, FK-closed): {result.total_rows_sampled} rows, {landed:.1f} MB landed; "
          f"median create-to-ready {statistics.median(r for _, _, r in ours):.2f} s = {ready_rate:.1f} MB/s; "
          f"data phase {data_rate:.1f} MB/s; {result.closure_passes} closure passes")
    print(f"theirs (pg_dump | psql of the same rows): {theirs[0][0]:.1f} MB landed; median create-to-ready "
          f"{statistics.median(s for _, s, _ in theirs):.2f} s = {theirs_ready:.1f} MB/s; data pipe {theirs_data:.1f} MB/s")
    print(f"ratio ours/theirs: create-to-ready {ready_rate / theirs_ready:.2f}x, data phase {data_rate / theirs_data:.2f}x")
    print(f"peak RSS: our process {rss_self:.0f} MB, largest child (pg_dump/psql/pg_restore) {rss_children:.0f} MB")
    print("rows per table:", result.rows_sampled)


def demo(server: TargetConnection, sample: float) -> None:
    """Create-to-ready of a ``sample`` copy of demo_shop, loaded into its own database."""
    demo_dir = Path(__file__).resolve().parents[1] / "migrations_app" / "demo"
    source = server.for_database(DEMO)
    manager = StagingEnvironmentManager(StagingEnvironmentConfig(max_staging_environments=1))
    try:
        with admin(server) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DEMO)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEMO)))
        with source.connect(autocommit=True, statement_timeout_ms=0) as conn:
            conn.execute((demo_dir / "demo_shop_schema.sql").read_text())
            conn.execute((demo_dir / "demo_shop_data.sql").read_text())
        print(f"loaded {DEMO}: {heap_mb(source):.0f} MB heap")
        for _ in range(3):
            started = time.monotonic()
            env = manager.create_staging_environment(source, sample, sample_seed=1)
            try:
                result = manager.replicate_production_schema(env.staging_id)
                ready = time.monotonic() - started
            finally:
                manager.cleanup_staging_environment(env.staging_id)
            print(f"demo_shop at {sample:.0%}: create-to-ready {ready:.2f} s (replication {result.duration_seconds:.2f} s, "
                  f"data phase {result.data_seconds:.2f} s), {result.total_rows_sampled} rows, "
                  f"{result.bytes_copied / 1e6:.1f} MB streamed, warnings {result.warnings}")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        with admin(server) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DEMO)))


if __name__ == "__main__":
    main()
