"""Create the benchmark schema: N tables, each with an index, a foreign key to its
neighbour and a view. ``python benchmarks/gen_schema.py --dsn DSN --tables 5000``.
``--functions 1000`` adds PL/pgSQL functions (and trigger functions) that read and write
``id`` and ``label`` of the tables, the way an application's routines do, so that every
routine body names the column a benchmark analyses.

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


def functions_sql(tables: int, functions: int) -> list[str]:
    """Routines over the tables: every body names ``id`` and ``label``; each names one to
    three tables (a join for every third one); every tenth is a trigger function."""
    batches, parts = [], []
    for i in range(functions):
        a, b, c = i % tables, (i * 7 + 3) % tables, (i * 13 + 5) % tables
        if i % 10 == 9:
            parts.append(f"""CREATE FUNCTION bench_touch_{i}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.label := coalesce(NEW.label, 'row ' || NEW.id);
  INSERT INTO bench_t{b} (id, label) VALUES (NEW.id + 1000000, NEW.label) ON CONFLICT (id) DO NOTHING;
  RETURN NEW;
END $$;
CREATE TRIGGER bench_touch_{i} BEFORE INSERT OR UPDATE ON bench_t{a} FOR EACH ROW EXECUTE FUNCTION bench_touch_{i}();""")
        elif i % 3 == 0:
            parts.append(f"""CREATE FUNCTION bench_report_{i}(p_id int) RETURNS TABLE (id int, label text, total numeric)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_count int := 0;
BEGIN
  SELECT count(*) INTO v_count FROM bench_t{c} WHERE bench_t{c}.id > p_id;
  RETURN QUERY
    SELECT x.id, x.label, coalesce(x.amount, 0) + y.amount + v_count
    FROM bench_t{a} x JOIN bench_t{b} y ON y.id = x.id
    WHERE x.id >= p_id AND y.label IS NOT NULL
    ORDER BY x.id;
END $$;""")
        else:
            parts.append(f"""CREATE FUNCTION bench_relabel_{i}(p_id int, p_label text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  v_old text;
  v_rows int;
BEGIN
  SELECT label INTO v_old FROM bench_t{a} WHERE id = p_id FOR UPDATE;
  IF v_old IS DISTINCT FROM p_label THEN
    UPDATE bench_t{a} SET label = p_label, amount = coalesce(amount, 0) + 1 WHERE id = p_id;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RAISE NOTICE 'relabelled % (id %) from % to %', v_rows, p_id, v_old, p_label;
  END IF;
  RETURN coalesce(v_rows, 0);
END $$;""")
        if len(parts) == 100:
            batches.append("\n".join(parts))
            parts = []
    batches.append("\n".join(parts))
    return batches


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--tables", type=int, default=5000)
    parser.add_argument("--functions", type=int, default=0)
    args = parser.parse_args()
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        for batch in schema_sql(args.tables) + (functions_sql(args.tables, args.functions) if args.functions else []):
            conn.execute(batch)
        conn.execute("ANALYZE")
    print(f"created {args.tables} tables, indexes, foreign keys and views, and {args.functions} functions")


if __name__ == "__main__":
    main()
