"""Risk Assessment Engine (runbook component #140): a 0-100 score per operation and per plan.

Four categories are scored from measured inputs (table size and row estimate, write rate,
dependency report, lock mode and rewrite, reversibility, environment, backup status, current
long transactions); every point comes from a ``RiskFactor`` with its evidence. The overall
score is the larger of the weighted mean and the worst category minus 15 points, and never
lands more than one band below the worst category's band (the tool this replaces let one
critical category be averaged away).
"""

from __future__ import annotations

from dataclasses import replace

from migrations_app.engines.risk.catalog import CatalogFacts, Thresholds, fetch_catalog_facts, open_catalog
from migrations_app.engines.risk.factors import rehearsal_factor, score_operation
from migrations_app.engines.risk.model import (CATEGORIES, OperationContext, PlanRiskAssessment, RiskAssessment,
                                               RiskFactor, RiskBand, combine, risk_level_for_score)

class RiskAssessmentEngine:
    """``RiskAssessmentEngine(connection=None)``: with a connection, table facts are read from the target."""

    def __init__(self, connection=None, thresholds: Thresholds | None = None):
        self.connection = connection
        self.thresholds = thresholds or Thresholds()

    def calculate_migration_risk_score(self, operation, dependency_report=None, *, facts: CatalogFacts | None = None,
                                       findings=(), **context) -> RiskAssessment:
        if facts is None and self.connection is not None:
            facts = self._facts_for(operation, context.get("schema", "public"))
        ctx = OperationContext.build(operation, facts=facts, **context)
        ctx.findings = list(findings)
        factors = _score(ctx, dependency_report, facts.thresholds if facts else self.thresholds, facts is not None)
        return _assessment(factors, _describe(ctx))

    def assess_plan(self, operations, dependency_reports=None, *, facts: CatalogFacts | None = None,
                    findings_by_statement=None, is_production=False, has_backup=False,
                    rollback_sql_by_statement=None, default_schema="public", rehearsal=None) -> PlanRiskAssessment:
        """Assess each operation; the plan's score is at least its riskiest operation's, and
        category scores are the worst over the operations. ``rehearsal``: a passed staging
        rehearsal's facts (``{"projection": {...}}``); its projected production lock time is a
        measured factor that can raise, never lower, system availability."""
        reports = dependency_reports or {}
        per_op = []
        for i, op in enumerate(operations):
            schema = getattr(op, "schema", None) or default_schema
            table, column = getattr(op, "table", None), getattr(op, "column", None)
            columns = op.objects[0].columns if getattr(op, "objects", None) else [column]
            report = _merge_reports([reports.get((schema, table, c)) for c in (columns or [None])]
                                    + [reports.get((schema, table, None))]) if reports else None
            rollback = (rollback_sql_by_statement or {}).get(i)
            context = dict(facts=facts, is_production=is_production, has_backup=has_backup,
                           default_schema=default_schema, rollback_sql=rollback,
                           rollback_known=rollback_sql_by_statement is not None)
            assessment = self.calculate_migration_risk_score(
                op, report, findings=(findings_by_statement or {}).get(i, ()), **context)
            # a DO block is as risky as the riskiest statement it runs
            for inner in getattr(op, "inner", None) or ():
                scored = self.calculate_migration_risk_score(inner, None, **context)
                if scored.overall_score > assessment.overall_score:
                    for f in scored.risk_factors:
                        f.evidence = f"inside the {op.kind.replace('_', ' ')} statement: {f.evidence}"
                    assessment = scored
            per_op.append(assessment)
        categories = {c: max((op.category_scores[c] for op in per_op), default=0) for c in CATEGORIES}
        factors = []
        if rehearsal:
            measured = rehearsal_factor(rehearsal)
            if measured is not None:
                factors.append(measured)
                categories[measured.category] = min(100, max(categories[measured.category], measured.points))
        overall = max([combine(categories)] + [op.overall_score for op in per_op])
        for i, op in enumerate(per_op):
            for f in op.risk_factors:
                factors.append(RiskFactor(f.name, f.points, f.category, f"statement {i + 1}: {f.evidence}"))
        factors.sort(key=lambda f: -f.points)
        return PlanRiskAssessment(risk_level_for_score(overall), overall, categories, factors,
                                  {"operations": len(per_op)}, operations=per_op)

    def _facts_for(self, operation, schema) -> CatalogFacts | None:
        table = operation.get("table") if isinstance(operation, dict) else getattr(operation, "table", None)
        if not table:
            return None
        schema = (operation.get("schema") if isinstance(operation, dict) else getattr(operation, "schema", None)) or schema
        with open_catalog(self.connection) as conn:
            return fetch_catalog_facts(conn, [(schema, table)], thresholds=self.thresholds)


def _merge_reports(reports):
    reports = [r for r in reports if r is not None]
    if not reports:
        return None
    if len(reports) == 1:
        return reports[0]
    return replace(reports[0], dependencies=[d for r in reports for d in r.dependencies])


def _describe(ctx: OperationContext) -> dict:
    return {"operation_type": ctx.operation_type, "schema": ctx.schema, "table": ctx.table, "column": ctx.column,
            "is_production": ctx.is_production, "has_backup": ctx.has_backup, "lock_mode": ctx.lock_mode}


def _assessment(factors: list[RiskFactor], operation: dict) -> RiskAssessment:
    scores = {c: 0 for c in CATEGORIES}
    for f in factors:
        scores[f.category] += f.points
    scores = {c: max(0, min(100, s)) for c, s in scores.items()}
    overall = combine(scores)
    return RiskAssessment(risk_level_for_score(overall), overall, scores,
                          sorted(factors, key=lambda f: -f.points), operation)


def _score(ctx: OperationContext, report, thresholds: Thresholds, live: bool) -> list[RiskFactor]:
    return score_operation(ctx, report, thresholds, live)

