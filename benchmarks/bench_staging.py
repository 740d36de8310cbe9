"""Staging copy benchmark: our 10% FK-closed sample vs ``pg_dump --data-only | psql`` of the
same tables whole, same run, same server.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/bench_staging.py --scale 1

Creates ``dfbench_staging_src`` (about 330 MB of heap at --scale 1, plus indexes), copies it
both ways, prints the figures, and drops everything it made (the source, the pg_dump
destination ``dfbench_staging_whole``, and our staging copy through the manager's cleanup).
"MB landed" is the heap size of the copied tables in the destination (pg_table_size),
so both sides are measured the same way. Peak RSS is this process's (our engine's), children
(pg_dump/pg_restore) reported separately.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from psycopg import sql  # noqa: E402

from migrations_app.engines.connections import TargetConnection  # noqa: E402
from staging_app.engines.schema_copy import client_program  # noqa: E402
from staging_app.engines.staging_environment_manager import (StagingEnvironmentConfig,  # noqa: E402
                                                            StagingEnvironmentManager)

SOURCE, WHOLE = "dfbench_staging_src", "dfbench_staging_whole"
TABLES = ("public.customers", "public.products", "public.orders", "public.order_items")

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 400k customers, 1.2M orders, 2.4M items")
    parser.add_argument("--sample", type=float, default=0.1)
    args = parser.parse_args()
    server = TargetConnection.from_dsn(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                                       dbname="postgres", statement_timeout_ms=0)
    source, whole = server.for_database(SOURCE), server.for_database(WHOLE)
    manager = StagingEnvironmentManager(StagingEnvironmentConfig(max_staging_environments=1))
    env = None
    try:
        with admin(server) as conn:
            for name in (SOURCE, WHOLE):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        started = time.monotonic()
        with source.connect(autocommit=True, statement_timeout_ms=0) as conn:
            conn.execute(SCHEMA)
            counts = {"customers": int(400_000 * args.scale), "orders": int(1_200_000 * args.scale)}
            for statement in DATA.strip().split(";\n"):
                conn.execute(statement, counts if "%(" in statement else None)
        print(f"generated {SOURCE}: {heap_mb(source):.0f} MB heap in {time.monotonic() - started:.0f} s")

        # Ours: create + replicate (10%), measured end to end and copy phase alone.
        started = time.monotonic()
        env = manager.create_staging_environment(source, args.sample, sample_seed=1)
        result = manager.replicate_production_schema(env.staging_id)
        ours_total = time.monotonic() - started
        ours_mb = heap_mb(server.for_database(env.database_name))

        # Theirs: same tables whole, into a database holding the same pre-data schema.
        env_vars = {**os.environ, **whole.libpq_env()}
        dump = subprocess.Popen([client_program("pg_dump"), "--schema-only", "--section=pre-data", SOURCE],
                                env={**os.environ, **source.libpq_env()}, stdout=subprocess.PIPE)
        subprocess.run([client_program("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", WHOLE],
                       stdin=dump.stdout, env=env_vars, check=True, stdout=subprocess.DEVNULL)
        dump.wait()
        started = time.monotonic()
        dump = subprocess.Popen([client_program("pg_dump"), "--data-only", *[f"--table={t}" for t in TABLES], SOURCE],
                                env={**os.environ, **source.libpq_env()}, stdout=subprocess.PIPE)
        subprocess.run([client_program("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", WHOLE],
                       stdin=dump.stdout, env=env_vars, check=True, stdout=subprocess.DEVNULL)
        dump.wait()
        theirs_seconds = time.monotonic() - started
        theirs_mb = heap_mb(whole)

        ours_rate = ours_mb / result.copy_seconds
        theirs_rate = theirs_mb / theirs_seconds
        rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"ours   ({args.sample:.0%} sample, FK-closed): {result.total_rows_sampled} rows, {ours_mb:.1f} MB landed, "
              f"copy {result.copy_seconds:.2f} s = {ours_rate:.1f} MB/s; create-to-ready {ours_total:.2f} s "
              f"(end-to-end {ours_mb / ours_total:.1f} MB/s), {result.closure_passes} closure passes")
        print(f"theirs (pg_dump --data-only | psql, whole): {theirs_mb:.1f} MB landed in {theirs_seconds:.2f} s "
              f"= {theirs_rate:.1f} MB/s")
        print(f"ratio ours/theirs (copy phase): {ours_rate / theirs_rate:.2f}x; "
              f"end-to-end: {(ours_mb / ours_total) / theirs_rate:.2f}x")
        print(f"peak RSS: our process {rss_self:.0f} MB, largest child (pg_dump/psql/pg_restore) {rss_children:.0f} MB")
        print("rows per table:", result.rows_sampled)
    finally:
        if env is not None:
            print("cleanup:", manager.cleanup_staging_environment(env.staging_id)["cleanup_status"])
        with admin(server) as conn:
            for name in (SOURCE, WHOLE):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
