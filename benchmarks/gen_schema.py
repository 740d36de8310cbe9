"""Create the benchmark schema: N tables, each with an index, a foreign key to its
neighbour and a view. ``python benchmarks/gen_schema.py --dsn DSN --tables 5000``.

The database named in the DSN must exist and be empty (the benchmark creates and drops it).
"""

import argparse

import psycopg


def schema_sql(tables: int) -> list[str]:
    batches, parts = [], ["CREATE TABLE bench_t0 (id int PRIMARY KEY, prev_id int, label text, amount numeric);"]
    for i in range(1, tables):
        parts.append(
            f"CREATE TABLE bench_t{i} (id int PRIMARY KEY, prev_id int REFERENCES bench_t{i - 1}(id), "
            f"label text, amount numeric);"
            f"CREATE INDEX bench_t{i}_label_idx ON bench_t{i} (label);"
            f"CREATE VIEW bench_v{i} AS SELECT id, label, amount FROM bench_t{i};")
        if len(parts) == 250:  # keep each round trip (and its locks) modest
            batches.append("\n".join(parts))
            parts = []
    batches.append("\n".join(parts))
    return batches


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--tables", type=int, default=5000)
    args = parser.parse_args()
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        for batch in schema_sql(args.tables):
            conn.execute(batch)
        conn.execute("ANALYZE")
    print(f"created {args.tables} tables, indexes, foreign keys and views")


if __name__ == "__main__":
    main()
