"""Plan analysis: statements, lint, dependencies, FK and rename impact, risk and mitigation in one report.

``analyze_plan(operations, connection=None, ...)`` is what the plan workflow and the
``lint_migration`` command call. Without a connection only static facts are used (and the
report says so: ``static_only``); with one, the catalog facts for every object the plan
touches are read in a constant number of queries, then the dependency, foreign key and
rename analyzers run for the objects the destructive statements name.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from migrations_app.engines.lint import RULES_BY_ID, LintContext, lint
from migrations_app.engines.lint.name_already_exists import name_requests
from migrations_app.engines.lint.review_policy import ReviewPolicy, apply_policy, directives_of
from migrations_app.engines.mitigation_strategy_engine import MitigationPlan, MitigationStrategyEngine
from migrations_app.engines.risk import (CatalogFacts, PlanRiskAssessment, RiskAssessmentEngine, Thresholds,
                                         apply_floors, fetch_catalog_facts, open_catalog, risk_effect)
from migrations_app.engines.rollback import (RollbackReview, combine_with_forward, definition_requests, lint_inner,
                                             review_rollbacks, suggest_rollback)
from migrations_app.engines.statements import (AnalysisEnv, RawStatement, SqlSyntaxError, StatementInfo, describe,
                                               default_function_names, split_script)
from migrations_app.engines.statements.policy import called_function_names, judge_existing_bodies

COLUMN_DEPENDENCY_KINDS = {"DROP_COLUMN", "ALTER_TYPE", "RENAME_COLUMN"}
FK_OPERATIONS = {"DROP_TABLE": "DROP_TABLE", "DROP_COLUMN": "DROP_COLUMN", "ALTER_TYPE": "ALTER_COLUMN_TYPE",
                 "TRUNCATE": "TRUNCATE_TABLE"}


@dataclass
class PlanAnalysisReport:
    statements: list[StatementInfo]
    findings: list
    rollbacks: list
    dependencies: list = field(default_factory=list)
    fk_impact: list = field(default_factory=list)
    rename_impact: list = field(default_factory=list)
    risk: PlanRiskAssessment | None = None
    rollback_review: RollbackReview | None = None
    mitigation: MitigationPlan | None = None
    static_only: bool = True
    errors: list[str] = field(default_factory=list)
    facts: CatalogFacts | None = None
    timings_ms: dict = field(default_factory=dict)
    policy: dict = field(default_factory=dict)   # review_policy.PolicyOutcome.to_dict(): ignored, switched off
    _by_statement: dict | None = field(default=None, repr=False)

    @property
    def refused(self) -> list[str]:
        """Every refusal of the statement policy, forward and rollback: the plan cannot pass with any."""
        return [f"line {f.line}: {f.message}" for f in self.findings if f.rule == "statement-refused"]

    def findings_for(self, index: int) -> list:
        if self._by_statement is None:
            self._by_statement = {}
            for f in self.findings:
                self._by_statement.setdefault(f.statement_index, []).append(f)
        return self._by_statement.get(index, [])

    def to_dict(self) -> dict:
        statements = []
        for stmt in self.statements:
            data = stmt.to_dict()
            data["findings"] = [{**f.to_dict(with_docs=False), "risk_effect": risk_effect(f)}
                                for f in self.findings_for(stmt.index)]
            data["rollback"] = self.rollbacks[stmt.index].to_dict()
            statements.append(data)
        return {
            "statements": statements,
            # problem/solution text once per rule that fired (not repeated on thousands of findings)
            "rules": {rule.id: {"severity": rule.severity, "problem": rule.problem, "solution": rule.solution}
                      for rule in (RULES_BY_ID[i] for i in sorted({f.rule for f in self.findings}))},
            "dependencies": [r.to_dict() for r in self.dependencies],
            "fk_impact": [r.to_dict() for r in self.fk_impact],
            "rename_impact": [r.to_dict() for r in self.rename_impact],
            "risk": self.risk.to_dict() if self.risk else None,
            "rollback_review": self.rollback_review.to_dict() if self.rollback_review else None,
            "refused": self.refused,
            "mitigation": self.mitigation.to_dict() if self.mitigation else None,
            "static_only": self.static_only,
            "errors": list(self.errors),
            "catalog": self.facts.to_dict() if self.facts else None,
            "timings_ms": self.timings_ms,
            "policy": self.policy,
        }


def _raw_statements(operations) -> tuple[list[RawStatement], dict[int, str]]:
    """Raw statements of a script or of a list of operations (``.sql``, optional ``.rollback_sql``)."""
    raws, given_rollback, _ = _raw_statements_with_operations(operations)
    return raws, given_rollback


def _raw_statements_with_operations(operations) -> tuple[list[RawStatement], dict[int, str], list[int]]:
    """Also the operation index of every statement (a script: one operation per statement)."""
    if isinstance(operations, str):
        raws = split_script(operations)
        return raws, {}, list(range(len(raws)))
    raws, given_rollback, operation_of = [], {}, []
    for op_index, op in enumerate(operations):
        text = op["sql"] if isinstance(op, dict) else op.sql
        rollback = op.get("rollback_sql") if isinstance(op, dict) else getattr(op, "rollback_sql", None)
        parsed = split_script(text)
        for raw in parsed:
            if rollback and len(parsed) == 1:
                given_rollback[len(raws)] = rollback
            raws.append(raw)
            operation_of.append(op_index)
    return raws, given_rollback, operation_of


def analyze_plan(operations, connection=None, schema: str = "public", *, is_production: bool = False,
                 has_backup: bool = False, progress: Callable[[str, int, int], None] | None = None,
                 thresholds: Thresholds | None = None, assume_session_timeouts: bool = False,
                 rehearsal: dict | None = None, review_policy: ReviewPolicy | None = None,
                 data_backup: dict | None = None) -> PlanAnalysisReport:
    """Analyse a plan. ``rehearsal``: facts of a passed staging rehearsal of this SQL
    (``Rehearsal.risk_input()``), whose projected lock time becomes a risk factor. ``data_backup``:
    the backups Execute… would take itself (``data_backup.backup_preview``, by operation index of
    ``operations``), so the data-loss findings say what will happen instead of "no backup". Raises ``SqlSyntaxError`` on unparsable SQL and ``CatalogFactsError`` (or the
    dependency analyzers' errors) when the connected catalog cannot be read."""
    started = time.perf_counter()
    timings = {}
    report_progress = progress or (lambda step, done, total: None)
    total_steps = 6
    report_progress("statements", 0, total_steps)
    raws, given_rollback, operation_of = _raw_statements_with_operations(operations)
    env = AnalysisEnv(default_schema=schema)
    statements = [describe(raw, env, i) for i, raw in enumerate(raws)]
    timings["parse"] = _ms(started)
    facts, errors = None, []
    dependency_reports, dep_list, fk_list, rename_list = {}, [], [], []
    if connection is not None:
        report_progress("catalog", 1, total_steps)
        t0 = time.perf_counter()
        with open_catalog(connection) as conn:
            targets = {(o.schema or schema, o.table) for s in statements + _rollback_statements(given_rollback, env)
                       for o in s.objects if o.relkind in ("table", "view") and o.table}
            called = set(default_function_names(raws))
            for stmt in statements:
                for node in [stmt.node] + [inner.node for inner in stmt.inner]:
                    called |= called_function_names(node)
            facts = fetch_catalog_facts(conn, targets, function_names=called,
                                        thresholds=thresholds, definitions=definition_requests(statements, schema),
                                        names=name_requests(statements, schema))
            volatility = dict(env.volatility)
            volatility.update(facts.volatility)
            env = AnalysisEnv(server_version_num=facts.server_version_num, volatility=volatility, live=True,
                              default_schema=schema)
            statements = [describe(raw, env, i) for i, raw in enumerate(raws)]
            bodies = judge_existing_bodies(facts.user_functions)
            for stmt in statements:
                _refine_with_catalog(stmt, facts, schema)
                if bodies:  # calling an existing function runs its body: judged like a DO block
                    for name in sorted(set().union(*(called_function_names(n) for n in
                                                     [stmt.node] + [i.node for i in stmt.inner]))):
                        stmt.verdicts.extend(bodies.get(name, []))
            timings["catalog"] = _ms(t0)
            report_progress("dependencies", 2, total_steps)
            t0 = time.perf_counter()
            dependency_reports, dep_list, fk_list, rename_list, errors = _run_analyzers(conn, statements, facts, schema)
            timings["dependencies"] = _ms(t0)
    report_progress("rollback", 3, total_steps)
    rollbacks = []
    for stmt in statements:
        if stmt.index in given_rollback:
            from migrations_app.engines.rollback import RollbackSuggestion

            rollbacks.append(RollbackSuggestion(given_rollback[stmt.index], "given with the operation"))
        else:
            rollbacks.append(suggest_rollback(stmt, facts, schema=schema))
    report_progress("lint", 4, total_steps)
    t0 = time.perf_counter()
    review_policy = review_policy or ReviewPolicy()
    ctx = LintContext(statements, facts=facts, dependency_reports=dependency_reports, default_schema=schema,
                      is_production=is_production, has_backup=has_backup,
                      assume_session_timeouts=assume_session_timeouts, rule_options=review_policy.rule_options(),
                      data_backup=data_backup, operation_of=operation_of)
    findings = lint(statements, ctx, disabled=review_policy.disabled())
    findings += lint_inner(statements, dict(facts=facts, dependency_reports=dependency_reports, default_schema=schema,
                                            is_production=is_production, has_backup=has_backup,
                                            assume_session_timeouts=assume_session_timeouts,
                                            rule_options=review_policy.rule_options()))
    review = review_rollbacks(statements, rollbacks, env, facts=facts, is_production=is_production,
                              has_backup=has_backup, thresholds=thresholds)
    outcome = apply_policy(findings + review.findings, review_policy, directives_of(operations), statements)
    from_review = {id(f) for f in review.findings}
    review.findings = [f for f in outcome.findings if id(f) in from_review]
    findings = [f for f in outcome.findings if id(f) not in from_review] + review.findings
    timings["lint"] = _ms(t0)
    report_progress("risk", 5, total_steps)
    t0 = time.perf_counter()
    by_stmt: dict[int, list] = {}
    for f in findings:
        by_stmt.setdefault(f.statement_index, []).append(f)
    risk = RiskAssessmentEngine(thresholds=thresholds).assess_plan(
        statements, dependency_reports, facts=facts, findings_by_statement=by_stmt, is_production=is_production,
        has_backup=has_backup, default_schema=schema,
        rollback_sql_by_statement={i: r.sql for i, r in enumerate(rollbacks) if r.sql}, rehearsal=rehearsal)
    apply_floors(risk, [f for f in findings if f not in review.findings])
    combine_with_forward(risk, review)
    engine = MitigationStrategyEngine()
    destroyed = sorted({(s.schema or schema, s.table) for s in statements if s.destroys_data and s.table
                        and s.kind in ("DROP_TABLE", "DROP_COLUMN", "TRUNCATE", "DELETE", "UPDATE")})
    strategies = engine.generate_mitigation_strategies(
        risk, operation_context={"is_production": is_production, "has_backup": has_backup,
                                 "destroyed_tables": destroyed, "statements": statements,
                                 "dependency_reports": dependency_reports, "default_schema": schema},
        findings=findings)
    mitigation = engine.prioritize_mitigation_actions(strategies, risk)
    timings["risk"] = _ms(t0)
    timings["total"] = _ms(started)
    report_progress("done", total_steps, total_steps)
    return PlanAnalysisReport(statements, findings, rollbacks, dep_list, fk_list, rename_list, risk, review,
                              mitigation, static_only=connection is None, errors=errors, facts=facts,
                              timings_ms=timings, policy=outcome.to_dict())


def _rollback_statements(given_rollback: dict[int, str], env: AnalysisEnv) -> list[StatementInfo]:
    """The author's rollback statements, so the one catalog read covers their tables too."""
    found = []
    for text in given_rollback.values():
        try:
            found += [describe(raw, env) for raw in split_script(text)]
        except SqlSyntaxError:
            pass  # reported by the rollback review
    return found


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)


def _refine_with_catalog(stmt: StatementInfo, facts: CatalogFacts, schema: str) -> None:
    """Facts only the catalog can settle: binary-coercible type changes do not rewrite."""
    if stmt.kind != "ALTER_TYPE" or not stmt.table:
        return
    col = facts.column(stmt.schema or schema, stmt.table, stmt.column)
    new = stmt.details.get("new_type", {})
    if col is None or stmt.details.get("using") or len([s for s in stmt.subcommands if s != "AT_AlterColumnType"]):
        return
    if binary_coercible(col["base_type"], col["atttypmod"], new.get("name"), new.get("mods", [])):
        stmt.rewrites_table = False
        if len(stmt.details.get("column_changes", [])) == 1:  # widening: every value survives
            stmt.details["type_change_lossless"] = True
            stmt.destroys_data = False
        stmt.notes = [f"{col['type_sql']} -> {new.get('sql')} is binary coercible: no rewrite (catalog)"]
    else:
        stmt.notes = [f"{col['type_sql']} -> {new.get('sql')} rewrites the table and its indexes (catalog)"]
    stmt.details["old_type"] = col["type_sql"]


def binary_coercible(old: str, old_typmod: int, new: str | None, new_mods: list[int]) -> bool:
    if new is None:
        return False
    if old in ("varchar", "text", "bpchar") and new == "text":
        return old != "bpchar"
    if old in ("varchar", "text") and new == "varchar":
        if not new_mods:
            return True
        return old == "varchar" and old_typmod >= 4 and new_mods[0] >= old_typmod - 4
    if old == "numeric" and new == "numeric":
        if not new_mods:
            return True
        if old_typmod < 4:
            return False
        precision, scale = ((old_typmod - 4) >> 16) & 0xFFFF, (old_typmod - 4) & 0xFFFF
        new_scale = new_mods[1] if len(new_mods) > 1 else 0
        return new_mods[0] >= precision and new_scale == scale
    return False


def _run_analyzers(conn, statements, facts: CatalogFacts, schema: str):
    from migrations_app.engines.dependencies import (DependencyAnalyzer, ForeignKeyAnalyzer, ObjectNotFoundError,
                                                     TableRenameAnalyzer)

    deps, fk, renames = DependencyAnalyzer(conn), ForeignKeyAnalyzer(conn), TableRenameAnalyzer(conn)
    reports, dep_list, fk_list, rename_list, errors, seen_fk = {}, [], [], [], [], set()
    created = set()
    for stmt in statements:
        s = stmt.schema or schema
        if stmt.kind == "CREATE_TABLE":
            created.add((s, stmt.table))
        if not stmt.table or (s, stmt.table) in created or facts.table(s, stmt.table) is None:
            if stmt.table and stmt.kind in COLUMN_DEPENDENCY_KINDS | {"DROP_TABLE", "RENAME_TABLE"} \
                    and (s, stmt.table) not in created:
                errors.append(f"line {stmt.line}: table {s}.{stmt.table} does not exist in the target")
            continue
        try:
            if stmt.kind in COLUMN_DEPENDENCY_KINDS:
                for column in stmt.objects[0].columns:
                    key = (s, stmt.table, column)
                    if key not in reports:
                        reports[key] = deps.analyze_column_dependencies(stmt.table, column, s)
                        dep_list.append(reports[key])
            elif stmt.kind == "DROP_TABLE":
                for obj in stmt.objects:
                    key = (obj.schema or schema, obj.table, None)
                    if key not in reports and facts.table(key[0], key[1]) is not None:
                        reports[key] = deps.analyze_table_dependencies(obj.table, key[0])
                        dep_list.append(reports[key])
            elif stmt.kind == "RENAME_TABLE":
                rename_list.append(renames.analyze_table_rename(stmt.details["old_name"], stmt.details["new_name"], s))
                # a 4-part key: the renamed-table lint rule reads it, the risk engine's lookups do not
                reports[(s, stmt.details["old_name"], None, "RENAME_TABLE")] = rename_list[-1]
            if stmt.kind in FK_OPERATIONS and _touches_foreign_keys(stmt, facts, s):
                key = (s, stmt.table, stmt.column if stmt.kind != "DROP_TABLE" else None, stmt.kind)
                if key not in seen_fk:
                    seen_fk.add(key)
                    fk_list.append(fk.analyze_foreign_key_impact(stmt.table, FK_OPERATIONS[stmt.kind], s,
                                                                 column=key[2], sql=stmt.sql))
        except ObjectNotFoundError as exc:
            # The statement names something that is not there: the plan would fail; say so.
            errors.append(f"line {stmt.line}: {exc}")
    return reports, dep_list, fk_list, rename_list, errors


def _touches_foreign_keys(stmt: StatementInfo, facts: CatalogFacts, schema: str) -> bool:
    """Whether the catalog facts (already read for the whole plan) show a foreign key on the
    table or column; the FK analyzer reads every FK edge of the database, so it runs only then."""
    fks = facts.fks_of(schema, stmt.table) + facts.fks_referencing(schema, stmt.table)
    if stmt.kind in ("DROP_TABLE", "TRUNCATE"):
        return bool(fks)
    columns = set(stmt.objects[0].columns) if stmt.objects else set()
    return any(columns & set(fk["columns"]) and (fk["schema_name"], fk["table_name"]) == (schema, stmt.table)
               or columns & set(fk["ref_columns"]) and (fk["ref_schema"], fk["ref_table"]) == (schema, stmt.table)
               for fk in fks)


__all__ = ["analyze_plan", "PlanAnalysisReport", "SqlSyntaxError", "binary_coercible"]
