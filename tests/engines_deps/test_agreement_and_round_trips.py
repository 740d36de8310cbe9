"""The analyzer against PostgreSQL itself: for every column, the views, materialized views and
foreign keys reported are exactly what ``DROP COLUMN ... CASCADE`` lists (rolled back)."""

import pytest
from psycopg import sql

from migrations_app.engines.dependencies import DependencyAnalyzer, DependencyType
from tests import pg
from tests.engines_deps.conftest import DEMO_SCHEMA, FIXTURES

SCHEMAS = [FIXTURES / "deps_catalog" / "schema.sql"] + ([DEMO_SCHEMA] if DEMO_SCHEMA.exists() else [])


def _cascade_notices(conn, schema, table, column) -> set[tuple[str, str]] | None:
    notices = []
    conn.add_notice_handler(lambda diag: notices.append((diag.message_primary or "") + "\n" + (diag.message_detail or "")))
    try:
        conn.execute("SAVEPOINT probe")
        conn.execute(sql.SQL("ALTER TABLE {} DROP COLUMN {} CASCADE").format(sql.Identifier(schema, table),
                                                                              sql.Identifier(column)))
    except Exception:
        conn.execute("ROLLBACK TO SAVEPOINT probe")
        return None  # PostgreSQL refuses (partition key, inherited column): nothing to compare
    conn.execute("ROLLBACK TO SAVEPOINT probe")
    found = set()
    for text in notices:
        for line in text.splitlines():
            line = line.strip().replace('"', "")
            if not line.startswith("drop cascades to ") or "other objects" in line:
                continue
            what = line.removeprefix("drop cascades to ")
            for kind in ("materialized view ", "view "):
                if what.startswith(kind):
                    found.add((kind.strip(), _qualify(what.removeprefix(kind))))
                    break
            else:
                if what.startswith("constraint "):
                    name, _, table_name = what.removeprefix("constraint ").partition(" on table ")
                    found.add(("constraint", f"{name} on {_qualify(table_name)}"))
    return found


def _qualify(name: str) -> str:
    # PostgreSQL leaves out schemas on the search path (public) in its messages
    return name if "." in name else f"public.{name}"


def _reported(report) -> set[tuple[str, str]]:
    kinds = {DependencyType.VIEW: "view", DependencyType.MATERIALIZED_VIEW: "materialized view"}
    out = {(kinds[d.type], f"{d.schema}.{d.name}") for d in report.dependencies if d.type in kinds}
    for d in report.get_dependencies_by_type(DependencyType.FOREIGN_KEY_INCOMING):
        out.add(("constraint", f"{d.name} on {d.schema}.{d.table}"))
    return out


@pytest.mark.parametrize("schema_file", SCHEMAS, ids=lambda p: p.parent.name)
def test_reported_views_and_keys_equal_what_drop_cascade_lists(schema_file):
    with pg.throwaway_database(schema_file.read_text()) as target, target.connect() as conn:
        columns = conn.execute("""
            SELECT n.nspname, c.relname, a.attname FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
            ORDER BY 1, 2, a.attnum""").fetchall()
        analyzer = DependencyAnalyzer(conn)
        compared = 0
        for schema, table, column in columns:
            expected = _cascade_notices(conn, schema, table, column)
            if expected is None:
                continue
            assert _reported(analyzer.analyze_column_dependencies(table, column, schema)) == expected, (schema, table, column)
            compared += 1
        assert compared > 10


def _schema_of(tables: int) -> str:
    parts = ["CREATE TABLE t0 (id int PRIMARY KEY, v text);"]
    for i in range(1, tables):
        parts.append(f"CREATE TABLE t{i} (id int PRIMARY KEY, prev_id int REFERENCES t{i - 1}(id), v text);"
                     f"CREATE VIEW v{i} AS SELECT id, v FROM t{i};")
    return "\n".join(parts)


def _round_trips(target, table, column) -> int:
    """Queries the analyzer sent, counted by libpq's protocol trace (not by the analyzer)."""
    import os
    import tempfile

    with target.connect() as conn, tempfile.TemporaryFile("w+") as trace:
        conn.pgconn.trace(trace.fileno())
        DependencyAnalyzer(conn).analyze_column_dependencies(table, column)
        conn.pgconn.untrace()
        os.fsync(trace.fileno())
        trace.seek(0)
        return sum(1 for line in trace if "\tF\t" in line and ("\tQuery\t" in line or "\tParse\t" in line))


def test_round_trips_do_not_grow_with_the_schema(target_db):
    small, large = target_db(_schema_of(10)), target_db(_schema_of(1000))
    assert _round_trips(small, "t5", "id") == _round_trips(large, "t5", "id") > 0
