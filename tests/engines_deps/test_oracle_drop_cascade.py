"""The analyzer against PostgreSQL itself, on a wide schema of our own
(``tests/fixtures/deps_oracle``): for every table and every column, what DROP ... CASCADE
removes (catalog diff inside a rolled-back transaction) and which routines stop working
(every routine called, every trigger fired, afterwards) must equal what the analyzer reports:
100% recall and 100% precision for every type of dependent. Where PostgreSQL refuses the
drop (partition keys, inherited columns), the analyzer must say why."""

from collections import Counter

import pytest

from migrations_app.engines.dependencies import DependencyAnalyzer
from tests import pg
from tests.engines_deps.conftest import FIXTURES
from tests.engines_deps.oracle import ask_postgresql, exercise, install_static_checks, snapshot

FACTS = {"NOT_NULL", "PARTITION_KEY", "INHERITED_FROM"}  # properties of the column, not objects
REFUSALS = {"PARTITION_KEY", "INHERITED_FROM"}
NO_TABLE = {"SEQUENCE", "FUNCTION", "PROCEDURE", "DOMAIN", "UNKNOWN"}


def _analyzer_answer(report) -> set[tuple]:
    found = set()
    for dep in report.dependencies:
        kind = dep.type.value
        if kind in FACTS:
            continue
        kind = "FOREIGN_KEY" if kind.startswith("FOREIGN_KEY") else kind
        found.add((kind, dep.schema, dep.name, None if kind in NO_TABLE else dep.table))
    return found


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
    expected, found, hits = Counter(), Counter(), Counter()
    misses, extras, refusals = [], [], 0
    for subject in subjects:
        answer = ask_postgresql(oracle_target, *subject, baseline)
        report = reports[subject]
        if answer.refused:
            refusals += 1
            reasons = {d.type.value for d in report.dependencies} & REFUSALS
            expected["(refused drop)"] += 1
            found["(refused drop)"] += bool(reasons)
            hits["(refused drop)"] += bool(reasons)
            if not reasons:
                misses.append((subject, "PostgreSQL refuses: " + answer.refused))
            continue
        mine = _analyzer_answer(report)
        for item in answer.dependents:
            expected[item[0]] += 1
            hits[item[0]] += item in mine
            if item not in mine:
                misses.append((subject, item))
        for item in mine:
            found[item[0]] += 1
            if item not in answer.dependents:
                extras.append((subject, item))
    lines = [f"{'type':24} {'postgresql':>10} {'analyzer':>9} {'recall':>8} {'precision':>10}"]
    for kind in sorted(set(expected) | set(found)):
        recall = hits[kind] / expected[kind] if expected[kind] else 1.0
        precision = hits[kind] / found[kind] if found[kind] else 1.0
        lines.append(f"{kind:24} {expected[kind]:>10} {found[kind]:>9} {recall:>8.1%} {precision:>10.1%}")
    lines.append(f"{len(subjects)} subjects ({refusals} refused by PostgreSQL), "
                 f"{sum(expected.values())} dependents found by PostgreSQL")
    table = "\n".join(lines)
    with capsys.disabled():
        print("\n" + table)
        for subject, item in misses:
            print("missed", subject, item)
        for subject, item in extras:
            print("extra ", subject, item)
    assert not misses and not extras, (table, "missed:", misses[:20], "extra:", extras[:20])
    assert len(expected) >= 15  # the schema exercises every kind, not a handful
