"""What the schema diff adds to an execution, on the demo schema (demo_shop_schema.sql, no rows).

    .venv/bin/python benchmarks/bench_schema_diff.py [--repeat 30]

Loads the demo schema into a throwaway database (``dfbench_schema_diff``, dropped after), reads
the digest of ``public`` as the executor does before and after a run (one session, prepared
queries), applies a column and an index, and times separately: the digest read (the executor's
existing cost), the diff of the two digests' objects (the added cost, client side only), and the
size of the stored diff and of the objects kept on the rollback plan. Medians are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migrations_app.engines.execution.digest import schema_digest  # noqa: E402
from migrations_app.engines.execution.schema_snapshot import diff_objects  # noqa: E402

DB = "dfbench_schema_diff"
SCHEMA = Path(__file__).resolve().parents[1] / "migrations_app" / "demo" / "demo_shop_schema.sql"
CHANGE = ("ALTER TABLE customers ADD COLUMN nickname text; "
          "CREATE INDEX customers_nickname_idx ON customers (nickname)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = {"host": args.host, "user": "postgres", "autocommit": True}
    with psycopg.connect(dbname="postgres", **server) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DB)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB)))
    try:
        with psycopg.connect(dbname=DB, **server) as conn:
            conn.execute(SCHEMA.read_text())
            before = schema_digest(conn, ["public"], prepare=True)
            conn.execute(CHANGE)
            reads, diffs = [], []
            for _ in range(args.repeat):
                started = time.perf_counter()
                after = schema_digest(conn, ["public"], prepare=True)
                reads.append(time.perf_counter() - started)
                started = time.perf_counter()
                diff = diff_objects(before.objects, after.objects).to_dict()
                diffs.append(time.perf_counter() - started)
        rows = sum(len(v) for v in before.objects.values())
        print(f"demo schema: {rows} catalog rows in the digest of public")
        print(f"digest read (existing, per read): median {statistics.median(reads) * 1000:.2f} ms")
        print(f"diff of two digests (added):      median {statistics.median(diffs) * 1000:.2f} ms")
        print(f"stored diff: {len(json.dumps(diff))} bytes, {len(diff['changes'])} changes; "
              f"objects kept on the rollback plan: {len(json.dumps(before.objects))} bytes")
    finally:
        with psycopg.connect(dbname="postgres", **server) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DB)))


if __name__ == "__main__":
    main()
