"""Rollback SQL goes through the same statement model, policy and risk as the forward SQL.

A rollback runs in an emergency, usually without a second review, so it is judged now:
- every rollback statement is parsed and described like a forward one, and the statement
  policy's refusals and findings apply to it (a refused rollback fails the analysis);
- a rollback that changes objects its forward statement does not name (``DROP TABLE unrelated``
  as the "rollback" of an index) is a finding with a HIGH floor;
- the rollback statements, in the order they would run, get their own risk assessment; the
  plan's risk is the larger of the forward and rollback assessments.
Style lint rules are not run on rollback SQL: the rollback of ADD COLUMN is a DROP COLUMN by
design, and flagging it would bury the findings that matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migrations_app.engines.lint import lint
from migrations_app.engines.lint.base import Finding, LintContext
from migrations_app.engines.lint.rollback_sql import TOUCHES_OTHER, UNPARSABLE
from migrations_app.engines.lint.statement_policy import BY_ID as POLICY_RULES
from migrations_app.engines.risk import PlanRiskAssessment, RiskAssessmentEngine, RiskFactor, apply_floors
from migrations_app.engines.rollback.catalog import dropped_index_tables
from migrations_app.engines.statements import AnalysisEnv, SqlSyntaxError, StatementInfo, describe, split_script

CHANGED_KINDS_ALL_OBJECTS = ("DROP_", "TRUNCATE")
CREATING_KINDS = {"CREATE_TABLE", "ADD_COLUMN", "CREATE_INDEX", "CREATE_VIEW", "CREATE_TABLE_AS", "CREATE_SEQUENCE",
                  "ADD_CONSTRAINT", "CREATE_TYPE", "CREATE_DOMAIN", "CREATE_FUNCTION", "CREATE_TRIGGER",
                  "CREATE_POLICY", "CREATE_RULE", "CREATE_STATISTICS", "CREATE_SCHEMA"}


@dataclass
class RollbackReview:
    statements: list[StatementInfo] = field(default_factory=list)   # in the order they would run
    forward_of: list[int] = field(default_factory=list)             # forward statement of each
    findings: list[Finding] = field(default_factory=list)           # attached to the forward statement
    risk: PlanRiskAssessment | None = None

    def to_dict(self) -> dict:
        return {"statements": [{"forward": self.forward_of[i] + 1, "sql": s.sql, "kind": s.kind,
                                "lock_mode": s.lock_mode, "destroys_data": s.destroys_data}
                               for i, s in enumerate(self.statements)],
                "risk": self.risk.to_dict() if self.risk else None}


def review_rollbacks(statements: list[StatementInfo], rollbacks: list, env: AnalysisEnv, *, facts=None,
                     is_production=False, has_backup=False, thresholds=None) -> RollbackReview:
    review = RollbackReview()
    for forward in reversed(statements):
        text = rollbacks[forward.index].sql
        if not text or not text.strip():
            continue
        try:
            raws = split_script(text)
        except SqlSyntaxError as exc:
            review.findings.append(UNPARSABLE.finding(forward, f"rollback SQL: {exc}"))
            continue
        names = _names(forward.node) | {n for inner in forward.inner for n in _names(inner.node)}
        names |= dropped_index_tables(forward, facts, env.default_schema)
        for raw in raws:
            stmt = describe(raw, env, len(review.statements))
            review.statements.append(stmt)
            review.forward_of.append(forward.index)
            for verdict in stmt.verdicts:
                rule = POLICY_RULES["statement-refused"] if verdict.refused else POLICY_RULES.get(verdict.rule)
                if rule is not None:
                    review.findings.append(rule.finding(
                        forward, f"rollback SQL: {verdict.text()}", policy_rule=verdict.rule,
                        risk_floor="CRITICAL" if verdict.refused else verdict.floor))
            strangers = sorted({o.table for o in _changed_objects(stmt) if o.table and o.table.lower() not in names})
            if not strangers and forward.kind in CREATING_KINDS and stmt.destroys_data:
                # dropping what the plan itself created removes no data that existed before the plan
                stmt.destroys_data = False
                stmt.notes.append(f"removes only what statement {forward.index + 1} created")
            if strangers:
                review.findings.append(TOUCHES_OTHER.finding(
                    forward, f"rollback SQL `{stmt.sql[:120]}` changes {', '.join(strangers)}, which statement "
                    f"{forward.index + 1} does not create or change", objects=strangers))
    if review.statements:
        # undoing a rollback is running the forward statement again: no "no rollback SQL" points
        review.risk = RiskAssessmentEngine(thresholds=thresholds).assess_plan(
            review.statements, {}, facts=facts, is_production=is_production, has_backup=has_backup,
            default_schema=env.default_schema,
            rollback_sql_by_statement={i: "(the forward statement)" for i in range(len(review.statements))})
        apply_floors(review.risk, review.findings)
    return review


def combine_with_forward(forward: PlanRiskAssessment, review: RollbackReview) -> None:
    """The plan's risk is the larger of the two; the rollback's share is a named factor."""
    if review.risk is None or review.risk.overall_score <= forward.overall_score:
        return
    worst = review.risk.risk_factors[0].evidence if review.risk.risk_factors else ""
    forward.risk_factors.insert(0, RiskFactor(
        "rollback_risk", review.risk.overall_score, "rollback_complexity",
        f"the rollback SQL scores {review.risk.risk_level.value} {review.risk.overall_score}/100, above the forward "
        f"SQL's {forward.overall_score}" + (f" ({worst})" if worst else "")))
    forward.overall_score = review.risk.overall_score
    forward.risk_level = review.risk.risk_level


def lint_inner(statements: list[StatementInfo], ctx_kwargs: dict) -> list[Finding]:
    """Lint the statements a DO block runs, reported on the DO statement."""
    found = []
    for stmt in statements:
        if not stmt.inner:
            continue
        inner = [_reindexed(i, n) for n, i in enumerate(stmt.inner)]
        already = {f.rule for f in found if f.statement_index == stmt.index}
        for finding in lint(inner, LintContext(inner, **ctx_kwargs)):
            if finding.rule in POLICY_RULES or finding.rule in already or finding.rule == "require-timeout-settings":
                continue  # the DO statement's own verdicts and session findings already cover its body
            already.add(finding.rule)
            finding.message = f"inside the {stmt.kind} statement: {finding.message}"
            finding.statement_index, finding.line = stmt.index, stmt.line
            found.append(finding)
    return found


def _reindexed(info: StatementInfo, index: int) -> StatementInfo:
    info.index = index
    return info


def _changed_objects(stmt: StatementInfo):
    """The objects a statement changes: every object of a DROP/TRUNCATE, else its target (the first)."""
    objects = list(stmt.objects[:1])
    if stmt.kind.startswith(CHANGED_KINDS_ALL_OBJECTS):
        objects = list(stmt.objects)
    for inner in stmt.inner:
        objects.extend(_changed_objects(inner))
    return [o for o in objects if o.relkind != "schema" or stmt.kind.startswith("DROP_")]


def _names(node) -> set[str]:
    """Every identifier and string in a parse tree, lower-cased: what a statement names."""
    found, stack = set(), [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            found.add(item.lower())
    return found
