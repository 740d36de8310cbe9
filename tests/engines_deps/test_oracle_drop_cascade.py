"""The analyzer against PostgreSQL itself, on a wide schema of our own
(``tests/fixtures/deps_oracle``): for every table and every column, what DROP ... CASCADE
removes (catalog diff inside a rolled-back transaction) and which routines stop working
(every routine called, every trigger fired, afterwards) must equal what the analyzer reports:
100% recall and 100% precision for every type of dependent. Where PostgreSQL refuses the
drop (partition keys, inherited columns), the analyzer must say why."""

import pytest

from migrations_app.engines.dependencies import DependencyAnalyzer
from tests import pg
from tests.engines_deps.conftest import FIXTURES
from tests.engines_deps.oracle import ask_postgresql, exercise, install_static_checks, score, snapshot

@pytest.fixture(scope="module")
def oracle_target():
    with pg.throwaway_database((FIXTURES / "deps_oracle" / "schema.sql").read_text()) as target:
        install_static_checks(target)  # where the server has plpgsql_check: every path of every body checked
        yield target


def _subjects(conn):
    return conn.execute("""
        SELECT n.nspname, c.relname, NULL FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_%%'
        UNION ALL
        SELECT n.nspname, c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
        ORDER BY 1, 2, 3 NULLS FIRST""".replace("%%", "%")).fetchall()


def test_every_table_and_column_matches_what_postgresql_drops_and_breaks(oracle_target, capsys):
    with oracle_target.connect() as conn:
        baseline = exercise(conn, snapshot(conn))
        subjects = _subjects(conn)
        analyzer = DependencyAnalyzer(conn)
        reports = {(s, t, c): analyzer.analyze_table_dependencies(t, s) if c is None
                   else analyzer.analyze_column_dependencies(t, c, s) for s, t, c in subjects}
    answers = {subject: ask_postgresql(oracle_target, *subject, baseline) for subject in subjects}
    result = score(subjects, answers, reports)
    misses, extras = result.misses, result.extras
    lines = result.table_lines()
    lines.append(f"{len(subjects)} subjects ({result.refusals} refused by PostgreSQL), "
                 f"{sum(result.expected.values())} dependents found by PostgreSQL")
    table = "\n".join(lines)
    with capsys.disabled():
        print("\n" + table)
        for subject, item in misses:
            print("missed", subject, item)
        for subject, item in extras:
            print("extra ", subject, item)
    assert not misses and not extras, (table, "missed:", misses[:20], "extra:", extras[:20])
    assert len(result.expected) >= 15  # the schema exercises every kind, not a handful
