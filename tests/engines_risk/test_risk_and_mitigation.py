"""Risk scores for the worked scenarios, the no-dilution rule, and mitigation plans that fit the findings."""

import itertools

import pytest

from migrations_app.engines.dependencies import DependencyAnalyzer
from migrations_app.engines.mitigation_strategy_engine import MitigationStrategyEngine
from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.engines.risk import CATEGORIES, RiskAssessmentEngine, RiskBand, combine, risk_level_for_score


@pytest.mark.parametrize("score, level", [(0, "LOW"), (30, "LOW"), (31, "MEDIUM"), (60, "MEDIUM"), (61, "HIGH"),
                                          (80, "HIGH"), (81, "CRITICAL"), (100, "CRITICAL")])
def test_bands_follow_the_runbook(score, level):
    assert risk_level_for_score(score).value == level


def test_one_critical_category_is_never_averaged_away():
    scores = {"data_loss": 95, "system_availability": 0, "performance": 0, "rollback_complexity": 0}
    weighted = 0.35 * 95
    assert weighted < 61 <= combine(scores)
    assert risk_level_for_score(combine(scores)) is RiskBand.HIGH


def test_overall_level_is_never_more_than_one_band_below_the_worst_category():
    for values in itertools.product((0, 20, 45, 70, 85, 100), repeat=4):
        scores = dict(zip(CATEGORIES, values))
        worst = risk_level_for_score(max(values))
        assert risk_level_for_score(combine(scores)).rank >= worst.rank - 1, scores


def test_dropping_an_unused_column_of_a_small_development_table_is_low(shop):
    report = analyze_plan("ALTER TABLE customers DROP COLUMN unused_flag", shop, is_production=False)
    assert report.risk.risk_level is RiskBand.LOW
    names = {f.name for f in report.risk.risk_factors}
    assert "destroys_data" in names and "dependent_objects" not in names and "no_rollback_sql" not in names


def test_runbook_legacy_status_drop_in_production_with_dependent_views_is_at_least_high(shop):
    dependency_report = DependencyAnalyzer(shop).analyze_column_dependencies("customers", "legacy_status")
    operation = {"table": "customers", "column": "legacy_status", "operation_type": "drop_column",
                 "is_production": True, "has_backup": True}
    assessment = RiskAssessmentEngine(shop).calculate_migration_risk_score(operation, dependency_report)
    assert assessment.risk_level.rank >= RiskBand.HIGH.rank
    dependents = next(f for f in assessment.risk_factors if f.name == "dependent_objects")
    assert dependents.category == "system_availability"
    assert "public.active_customers" in dependents.evidence and "CRITICAL" in dependents.evidence
    assert any(f.name == "backup_available" and f.points < 0 for f in assessment.risk_factors)
    assert isinstance(assessment.overall_score, int) and set(assessment.category_scores) == set(CATEGORIES)


def test_cascade_drop_of_a_large_production_table_with_foreign_keys_is_critical(shop, tiny_thresholds):
    report = analyze_plan("DROP TABLE customers CASCADE", shop, is_production=True, thresholds=tiny_thresholds)
    assert report.risk.risk_level is RiskBand.CRITICAL
    evidence = " | ".join(f.evidence for f in report.risk.risk_factors)
    assert "CASCADE" in evidence and "customers has 50 rows" in evidence and "production" in evidence
    assert report.fk_impact and report.fk_impact[0].to_dict()


def test_the_same_statement_scores_higher_on_a_large_production_table(shop, tiny_thresholds):
    sql = "ALTER TABLE orders ALTER COLUMN amount TYPE bigint"
    small_dev = analyze_plan(sql, shop).risk
    large_prod = analyze_plan(sql, shop, is_production=True, thresholds=tiny_thresholds).risk
    assert large_prod.overall_score > small_dev.overall_score
    rewrite = next(f for f in large_prod.risk_factors if f.name == "blocking_rewrite")
    assert "orders has 200 rows" in rewrite.evidence and "ACCESS EXCLUSIVE" in rewrite.evidence


def test_plan_risk_is_at_least_its_riskiest_operation():
    report = analyze_plan("ALTER TABLE t ADD COLUMN c text; DROP TABLE important CASCADE; SELECT 1")
    assert report.risk.overall_score >= max(op.overall_score for op in report.risk.operations)


def test_runbook_mitigation_api_orders_steps_and_projects_lower_risk():
    engine = RiskAssessmentEngine()
    assessment = engine.calculate_migration_risk_score(
        {"table": "customers", "operation_type": "drop_column", "is_production": True, "has_backup": False}, None)
    mitigation = MitigationStrategyEngine()
    strategies = mitigation.generate_mitigation_strategies(assessment, operation_context={"is_production": True})
    plan = mitigation.prioritize_mitigation_actions(strategies, assessment)
    first = plan.recommended_execution_order[0]
    assert first.order == 1 and first.strategy.name.startswith("Back up")
    assert first.strategy.estimated_effort_hours > 0 and "data_loss" in first.strategy.categories
    assert plan.projected_risk_after < assessment.overall_score


def test_mitigation_plans_differ_by_finding():
    fk = analyze_plan("ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
                      "REFERENCES customers (id)").mitigation
    drop = analyze_plan("ALTER TABLE customers DROP COLUMN legacy_status").mitigation
    index = analyze_plan("CREATE INDEX orders_code ON orders (code)").mitigation
    ids = [{s.strategy.id for s in plan.recommended_execution_order} for plan in (fk, drop, index)]
    assert "not-valid-then-validate" in ids[0] and "backup-before-destructive-change" in ids[1]
    assert "create-index-concurrently" in ids[2]
    assert len({frozenset(i) for i in ids}) == 3
    step = next(s for s in fk.recommended_execution_order if s.strategy.id == "not-valid-then-validate")
    assert "NOT VALID" in step.strategy.safe_sql and "VALIDATE CONSTRAINT" in step.strategy.safe_sql


def test_backup_comes_before_the_rewrites_in_the_mitigation_order():
    plan = analyze_plan("ALTER TABLE orders ALTER COLUMN amount TYPE bigint; ALTER TABLE orders DROP COLUMN code",
                        is_production=True).mitigation
    ids = [s.strategy.id for s in plan.recommended_execution_order]
    assert ids.index("backup-before-destructive-change") < ids.index("expand-contract-type-change")
    backup = plan.recommended_execution_order[ids.index("backup-before-destructive-change")].strategy
    assert "CREATE TABLE dataflow_backup.orders AS TABLE public.orders" in backup.safe_sql


def test_recorded_backup_removes_the_backup_strategy():
    plan = analyze_plan("ALTER TABLE customers DROP COLUMN legacy_status", has_backup=True).mitigation
    assert "backup-before-destructive-change" not in {s.strategy.id for s in plan.recommended_execution_order}


def test_plan_operations_with_given_rollback_sql_are_analysed_in_order():
    from types import SimpleNamespace

    ops = [SimpleNamespace(sql="ALTER TABLE t ADD COLUMN c int", rollback_sql="ALTER TABLE t DROP COLUMN c", type="ADD_COLUMN"),
           {"sql": "CREATE INDEX t_c ON t (c)"}]
    data = analyze_plan(ops).to_dict()
    assert [s["kind"] for s in data["statements"]] == ["ADD_COLUMN", "CREATE_INDEX"]
    assert data["statements"][0]["rollback"] == {"sql": "ALTER TABLE t DROP COLUMN c", "reason": "given with the operation"}
    assert data["statements"][1]["rollback"]["sql"] == "DROP INDEX CONCURRENTLY IF EXISTS t_c"
    assert "require-concurrent-index-creation" in data["rules"]
