"""Write a generated migration file for the lint benchmark (default 15,000 statements).

``python benchmarks/gen_migration.py OUT.sql [--statements N] [--tables T]``: a deterministic mix
of the statements real migrations contain (add/drop/retype/rename columns, constraints,
indexes, data fixes), over ``bench_t0 .. bench_t{T-1}`` (the tables of gen_schema.py).
"""

import argparse

TEMPLATES = (
    "ALTER TABLE bench_t{t} ADD COLUMN c{i} integer DEFAULT 0",
    "ALTER TABLE bench_t{t} ADD COLUMN c{i} timestamptz DEFAULT clock_timestamp()",
    "CREATE INDEX bench_t{t}_amount_{i} ON bench_t{t} (amount)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS bench_t{t}_label2_{i} ON bench_t{t} (label)",
    "ALTER TABLE bench_t{t} ADD CONSTRAINT bench_t{t}_chk_{i} CHECK (amount >= 0) NOT VALID",
    "ALTER TABLE bench_t{t} VALIDATE CONSTRAINT bench_t{t}_chk_{i}",
    "ALTER TABLE bench_t{t} ALTER COLUMN label SET NOT NULL",
    "ALTER TABLE bench_t{t} ALTER COLUMN amount TYPE numeric(14, 2)",
    "ALTER TABLE bench_t{t} RENAME COLUMN label TO title",
    "ALTER TABLE bench_t{t} DROP COLUMN IF EXISTS legacy_{i}",
    "UPDATE bench_t{t} SET amount = 0 WHERE amount IS NULL",
    "ALTER TABLE bench_t{t} ADD CONSTRAINT bench_t{t}_fk_{i} FOREIGN KEY (prev_id) REFERENCES bench_t0 (id)",
    "ALTER TABLE bench_t{t} ADD COLUMN note_{i} varchar(40)",
    "DROP INDEX IF EXISTS bench_t{t}_old_{i}",
    "SET lock_timeout = '5s'",
)


def generate(statements: int, tables: int) -> str:
    lines = []
    for i in range(statements):
        template = TEMPLATES[i % len(TEMPLATES)]
        lines.append(template.format(t=i % tables, i=i) + ";")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--statements", type=int, default=15_000)
    parser.add_argument("--tables", type=int, default=5_000)
    args = parser.parse_args()
    with open(args.out, "w") as fh:
        fh.write(generate(args.statements, args.tables))
    print(f"wrote {args.statements} statements to {args.out}")


if __name__ == "__main__":
    main()
