import json

import psycopg
import pytest

from migrations_app.engines.dependencies.analyzer import (
    DependencyAnalysisError, DependencyAnalyzer, DependencyType, ImpactLevel, ObjectNotFoundError,
    RemovalRecommendation,
)
from tests.engines_deps.conftest import FIXTURES

GOLDEN = json.loads((FIXTURES / "deps_catalog" / "expected.json").read_text())["columns"]


@pytest.mark.parametrize("case", GOLDEN, ids=lambda c: f"{c['schema']}.{c['table']}.{c['column']}")
def test_column_dependencies_match_the_golden_case(catalog_target, case):
    report = DependencyAnalyzer(catalog_target).analyze_column_dependencies(case["table"], case["column"], case["schema"])
    found = [{k: d[k] for k in ("type", "schema", "name", "table", "columns", "impact", "line", "path")}
             for d in report.to_dict()["dependencies"]]
    assert found == case["dependencies"]
    assert report.get_removal_recommendation().value == case["recommendation"]


def test_lookalike_column_names_do_not_match(catalog_target):
    report = DependencyAnalyzer(catalog_target).analyze_column_dependencies("Customers", "Status", "Sales Data")
    names = {d.name for d in report.get_dependencies_by_type(DependencyType.FUNCTION)}
    assert "legacy_lookalike()" not in names
    legacy = DependencyAnalyzer(catalog_target).analyze_column_dependencies("Customers", "legacy_status", "Sales Data")
    assert [d.name for d in legacy.get_dependencies_by_type(DependencyType.FUNCTION)] == ["legacy_lookalike()"]


def test_plpgsql_reference_reports_the_body_line(catalog_target):
    report = DependencyAnalyzer(catalog_target).analyze_column_dependencies("Customers", "Status", "Sales Data")
    close = next(d for d in report.dependencies if d.name == "close_customer(p_id integer)")
    assert close.line == 5 and close.impact is ImpactLevel.HIGH
    # audit_status() reads NEW."Status", but only its trigger (AFTER UPDATE OF "Status") runs it,
    # and that trigger goes with the column: nothing runs the function any more, nothing breaks
    assert "audit_status()" not in {d.name for d in report.dependencies}
    assert "customers_status_audit" in {d.name for d in report.get_dependencies_by_type(DependencyType.TRIGGER)}
    # dropping "Id" leaves the trigger, and the function then fails on NEW."Id" (line 4)
    by_id = DependencyAnalyzer(catalog_target).analyze_column_dependencies("Customers", "Id", "Sales Data")
    audit = next(d for d in by_id.dependencies if d.name == "audit_status()")
    assert audit.extra["trigger_function"] is True and audit.line == 4


def test_views_on_views_carry_their_path(catalog_target):
    report = DependencyAnalyzer(catalog_target).analyze_column_dependencies("Customers", "email", "Sales Data")
    nested = next(d for d in report.dependencies if d.name == "active_emails")
    assert nested.path == ["Sales Data.active_customers", "reporting.active_emails"]


def test_report_summary_and_json_keys(catalog_target):
    report = DependencyAnalyzer(catalog_target).analyze_column_dependencies("accounts", "region", "Sales Data")
    data = json.loads(json.dumps(report.to_dict()))
    assert data["removal_recommendation"] == RemovalRecommendation.DANGEROUS.value
    assert {"type", "schema", "name", "table", "impact"} <= set(data["dependencies"][0])
    fk = next(d for d in report.dependencies if d.type is DependencyType.FOREIGN_KEY_INCOMING)
    assert fk.extra["column_pairs"] == [["acc_region", "region"], ["acc_code", "code"]]
    assert fk.extra["on_delete"] == "CASCADE"
    assert report.generate_impact_summary()["by_impact"]["CRITICAL"] == len(report.get_critical_dependencies())


def test_a_column_without_dependents_is_safe(target_db):
    target = target_db("CREATE TABLE t (id int, note text);")
    report = DependencyAnalyzer(target).analyze_column_dependencies("t", "note")
    assert report.get_total_dependency_count() == 0
    assert report.get_removal_recommendation() is RemovalRecommendation.SAFE


def test_missing_table_or_column_is_an_error_not_an_empty_report(catalog_target):
    analyzer = DependencyAnalyzer(catalog_target)
    with pytest.raises(ObjectNotFoundError):
        analyzer.analyze_column_dependencies("customers", "Status", "Sales Data")  # case matters
    with pytest.raises(ObjectNotFoundError):
        analyzer.analyze_column_dependencies("Customers", "status", "Sales Data")
    with pytest.raises(ObjectNotFoundError):
        analyzer.analyze_table_dependencies("Customers", "public")


def test_table_dependencies_list_views_and_incoming_keys(catalog_target):
    report = DependencyAnalyzer(catalog_target).analyze_table_dependencies("Customers", "Sales Data")
    critical = {(d.type.value, d.name) for d in report.get_critical_dependencies()}
    assert ("FOREIGN_KEY_INCOMING", "accounts_owner_id_fkey") in critical
    assert ("VIEW", "active_emails") in critical
    assert report.column is None


def test_a_permission_error_raises_instead_of_reporting_nothing(target_db):
    target = target_db("CREATE TABLE t (id int PRIMARY KEY); REVOKE SELECT ON pg_catalog.pg_depend FROM PUBLIC;")
    role = "dfdeps_no_catalog"
    with target.connect(autocommit=True) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        with pytest.raises(DependencyAnalysisError, match="permission denied"):
            DependencyAnalyzer(target.with_options(user=role)).analyze_column_dependencies("t", "id")
    finally:
        with target.connect(autocommit=True) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {role}")


def test_an_open_psycopg_connection_is_accepted_and_left_open(catalog_target):
    with catalog_target.connect() as conn:
        report = DependencyAnalyzer(conn).analyze_column_dependencies("Customers", "tenant", "Sales Data")
        assert [d.type for d in report.dependencies] == [DependencyType.POLICY]
        assert not conn.closed
    with pytest.raises(DependencyAnalysisError):
        DependencyAnalyzer(conn).analyze_column_dependencies("Customers", "tenant", "Sales Data")
