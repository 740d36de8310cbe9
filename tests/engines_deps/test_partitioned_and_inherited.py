"""Partitioned and inheritance parents analyse (they used to crash the analysis), their
partitions, children and inherited columns are reported, and lint_migration never answers an
internal or connection error with exit status 1 (which means "risk too high")."""

import io

import pytest
from django.core.management import call_command

from migrations_app.engines.dependencies import DependencyAnalyzer, DependencyType, ImpactLevel, TableRenameAnalyzer
from tests import pg
from tests.engines_deps.conftest import DEMO_SCHEMA

SCHEMA = """
CREATE TABLE p (a int, t int, g int GENERATED ALWAYS AS (t * 2) STORED) PARTITION BY RANGE (a);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
CREATE VIEW gv AS SELECT g FROM p;
CREATE TABLE par (x int, y int);
CREATE TABLE ch (z int) INHERITS (par);
CREATE TABLE ex (t int, EXCLUDE USING gist (int4range(t, t, '[]') WITH &&));
"""


@pytest.fixture(scope="module")
def target():
    with pg.throwaway_database(SCHEMA) as made:
        yield made


def _types(report):
    return {(d.type, d.qualified_name) for d in report.dependencies}


def test_a_partitioned_parent_lists_its_partitions_instead_of_failing(target):
    report = DependencyAnalyzer(target).analyze_table_dependencies("p")
    assert (DependencyType.PARTITION, "public.p1") in _types(report)
    assert (DependencyType.VIEW, "public.gv") in _types(report)


def test_an_inheritance_parent_lists_its_child_as_critical(target):
    report = DependencyAnalyzer(target).analyze_table_dependencies("par")
    [child] = report.get_dependencies_by_type(DependencyType.CHILD_TABLE)
    assert child.qualified_name == "public.ch" and child.impact is ImpactLevel.CRITICAL


def test_a_parent_column_reaches_the_partitions_copy_and_the_view_on_its_generated_column(target):
    report = DependencyAnalyzer(target).analyze_column_dependencies("p", "t")
    found = _types(report)
    assert (DependencyType.INHERITED_COLUMN, "public.p1.t") in found
    assert (DependencyType.GENERATED_COLUMN, "public.p.g") in found
    view = next(d for d in report.dependencies if d.name == "gv")
    assert view.path == ["public.p.g", "public.gv"]


def test_an_inherited_column_says_postgresql_refuses_to_drop_it_on_the_child(target):
    report = DependencyAnalyzer(target).analyze_column_dependencies("ch", "x")
    [inherited] = report.get_dependencies_by_type(DependencyType.INHERITED_FROM)
    assert inherited.qualified_name == "public.par" and inherited.impact is ImpactLevel.CRITICAL


def test_an_exclusion_constraint_on_an_expression_of_the_column_is_reported(target):
    report = DependencyAnalyzer(target).analyze_column_dependencies("ex", "t")
    [constraint] = report.get_dependencies_by_type(DependencyType.EXCLUSION_CONSTRAINT)
    assert constraint.name == "ex_int4range_excl"
    assert report.get_removal_recommendation().value != "SAFE"


@pytest.fixture(scope="module")
def demo():
    with pg.throwaway_database(DEMO_SCHEMA.read_text()) as made:
        yield made


def test_the_demo_page_views_table_analyses_for_drop_and_rename(demo):
    report = DependencyAnalyzer(demo).analyze_table_dependencies("page_views")
    partitions = {d.name for d in report.get_dependencies_by_type(DependencyType.PARTITION)}
    assert partitions == {"page_views_2026_q3", "page_views_2026_q4"}
    rename = TableRenameAnalyzer(demo).analyze_table_rename("page_views", "page_hits")
    assert {o.object_name for o in rename.schema_objects} >= partitions
    from migrations_app.engines.plan_analysis import analyze_plan

    for plan_sql in ("DROP TABLE public.page_views;", "ALTER TABLE public.page_views RENAME TO page_hits;"):
        analysed = analyze_plan(plan_sql, demo)
        assert not analysed.errors and (analysed.dependencies or analysed.rename_impact)


def _lint(tmp_path, sql, *args):
    path = tmp_path / "plan.sql"
    path.write_text(sql)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("lint_migration", str(path), *args, "--fail-on", "LOW", stdout=out, stderr=out)
    return exit_info.value.code, out.getvalue()


def test_lint_migration_analyses_the_demo_page_views_drop(demo, tmp_path):
    code, out = _lint(tmp_path, "DROP TABLE public.page_views;", "--dsn", pg.dsn(demo))
    assert code == 1 and "Traceback" not in out and "risk: " in out


def test_lint_migration_exits_2_with_a_message_when_the_catalog_cannot_be_read(target_db, tmp_path):
    made = target_db("CREATE TABLE t (id int PRIMARY KEY, v int); REVOKE SELECT ON pg_catalog.pg_depend FROM PUBLIC;")
    role = "dfdeps_lint_no_catalog"
    with made.connect(autocommit=True) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        code, out = _lint(tmp_path, "ALTER TABLE t DROP COLUMN v;", "--dsn", pg.dsn(made.with_options(user=role)))
    finally:
        with made.connect(autocommit=True) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {role}")
    assert code == 2 and "permission denied" in out and "Traceback" not in out


def test_lint_migration_exits_2_on_an_internal_error(tmp_path, monkeypatch):
    import migrations_app.engines.plan_analysis as plan_analysis

    def broken(*args, **kwargs):
        raise RuntimeError("analysis engine bug")

    monkeypatch.setattr(plan_analysis, "analyze_plan", broken)
    code, out = _lint(tmp_path, "ALTER TABLE t DROP COLUMN v;")
    assert code == 2 and "internal error" in out and "analysis engine bug" in out
