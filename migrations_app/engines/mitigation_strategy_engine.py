"""Mitigation Strategy Engine (runbook): strategies tailored to the risk factors and lint findings.

Each strategy names the risk categories it reduces, its effort, its implementation steps and,
where one exists, the safe SQL rewrite (taken from the lint finding that triggered it). The
plan orders steps by phase (what must come first: backup before a drop, rehearsal before the
window) and projects the risk after mitigation with the same scoring rule as the assessment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migrations_app.engines.statements.identifiers import ident
from migrations_app.engines.mitigation_dependents import dependents_sql
from migrations_app.engines.risk import CATEGORIES, RiskBand, combine, risk_level_for_score

PHASES = ("prepare", "dependents", "rehearse", "schedule", "rewrite", "guard", "verify")


@dataclass
class MitigationStrategy:
    id: str
    name: str
    description: str
    estimated_effort_hours: float
    priority: str                         # "required", "recommended", "optional"
    categories: list[str]
    implementation_steps: list[str]
    safe_sql: str | None = None
    phase: str = "rewrite"
    reduction: dict[str, int] = field(default_factory=dict)   # points removed per category
    triggered_by: list[str] = field(default_factory=list)
    # statement index -> the SQL that takes its place: a rewrite replaces the statement it fixes
    # (copying it beside the original would run both). Empty for steps that add statements.
    rewrites: dict[int, str] = field(default_factory=dict)
    # a statement of the plan that some trigger could not rewrite: the step cannot be copied whole
    incomplete: bool = False
    # statements that go around the plan's own (dependent views dropped before, recreated after)
    sql_before: list[str] = field(default_factory=list)
    sql_after: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "description": self.description,
                "estimated_effort_hours": self.estimated_effort_hours, "priority": self.priority,
                "categories": list(self.categories), "implementation_steps": list(self.implementation_steps),
                "safe_sql": self.safe_sql, "phase": self.phase, "triggered_by": list(self.triggered_by),
                "rewrites": [{"statement_index": i, "sql": sql} for i, sql in sorted(self.rewrites.items())],
                "rewrites_complete": not self.incomplete,
                "sql_before": list(self.sql_before), "sql_after": list(self.sql_after)}


@dataclass
class MitigationStep:
    order: int
    strategy: MitigationStrategy

    def to_dict(self) -> dict:
        return {"order": self.order, **self.strategy.to_dict()}


@dataclass
class MitigationPlan:
    recommended_execution_order: list[MitigationStep]
    risk_before: int
    level_before: RiskBand
    projected_category_scores: dict[str, int]
    projected_risk_after: int
    projected_level_after: RiskBand
    total_effort_hours: float

    def to_dict(self) -> dict:
        return {"steps": [s.to_dict() for s in self.recommended_execution_order],
                "risk_before": self.risk_before, "level_before": self.level_before.value,
                "projected_category_scores": self.projected_category_scores,
                "projected_risk_after": self.projected_risk_after,
                "projected_level_after": self.projected_level_after.value,
                "total_effort_hours": self.total_effort_hours}


MAX_SAFE_SQL_EXAMPLES = 5   # a 15,000-statement file must not yield a megabyte of repeated SQL
MAX_REWRITES = 200          # statement rewrites kept per step for "copy into the plan"
_PRIORITY_RANK = {"required": 0, "recommended": 1, "optional": 2}

# Lint rule -> strategy (id, name, description, effort, categories, steps, reduction).
_BY_RULE = {
    "adding-foreign-key-constraint": ("not-valid-then-validate", "Add the foreign key NOT VALID, validate separately",
                                      "The constraint is added instantly; validation runs under SHARE UPDATE EXCLUSIVE "
                                      "so traffic continues.", 0.5, ["system_availability"],
                                      ["Add the constraint with NOT VALID", "Run VALIDATE CONSTRAINT in its own transaction"],
                                      {"system_availability": 30}),
    "constraint-missing-not-valid": ("not-valid-then-validate-check", "Add the CHECK constraint NOT VALID, validate separately",
                                     "New rows are checked at once; existing rows are validated without blocking.", 0.5,
                                     ["system_availability"], ["Add the CHECK with NOT VALID", "VALIDATE CONSTRAINT later"],
                                     {"system_availability": 30}),
    "adding-not-nullable-field": ("check-constraint-not-null", "Set NOT NULL through a validated CHECK constraint",
                                  "PostgreSQL 12+ skips the SET NOT NULL scan when a valid CHECK (col IS NOT NULL) exists.",
                                  1.0, ["system_availability", "performance"],
                                  ["Add CHECK (col IS NOT NULL) NOT VALID", "VALIDATE CONSTRAINT", "SET NOT NULL",
                                   "Drop the CHECK"], {"system_availability": 30, "performance": 15}),
    "require-concurrent-index-creation": ("create-index-concurrently", "Build the index CONCURRENTLY",
                                          "Writes continue during the build; run it outside a transaction block.", 0.5,
                                          ["system_availability"], ["Use CREATE INDEX CONCURRENTLY",
                                                                    "Check for and drop an INVALID index if it fails"],
                                          {"system_availability": 30}),
    "require-concurrent-index-deletion": ("drop-index-concurrently", "Drop the index CONCURRENTLY",
                                          "Avoids ACCESS EXCLUSIVE on the table.", 0.25, ["system_availability"],
                                          ["Use DROP INDEX CONCURRENTLY outside a transaction block"],
                                          {"system_availability": 10}),
    "disallowed-unique-constraint": ("unique-using-index", "Build the unique index concurrently, then attach it",
                                     "ADD CONSTRAINT ... USING INDEX is a catalog-only change.", 1.0,
                                     ["system_availability"], ["CREATE UNIQUE INDEX CONCURRENTLY",
                                                               "ADD CONSTRAINT ... UNIQUE USING INDEX"],
                                     {"system_availability": 30}),
    "adding-primary-key-constraint": ("primary-key-using-index", "Build the primary key index concurrently, then attach it",
                                      "ADD PRIMARY KEY USING INDEX avoids building the index under ACCESS EXCLUSIVE.", 1.0,
                                      ["system_availability"], ["CREATE UNIQUE INDEX CONCURRENTLY",
                                                                "ADD CONSTRAINT ... PRIMARY KEY USING INDEX"],
                                      {"system_availability": 30}),
    "changing-column-type": ("expand-contract-type-change", "Expand/contract the type change with a batched backfill",
                             "A new column of the new type is kept in sync by a trigger and backfilled in batches; no "
                             "long ACCESS EXCLUSIVE rewrite.", 6.0, ["system_availability", "performance", "data_loss"],
                             ["Add the new column", "Sync trigger for new writes", "Backfill in batches of 10k rows",
                              "Move readers", "Drop the old column, rename the new one"],
                             {"system_availability": 40, "performance": 20, "data_loss": 10}),
    "adding-required-field": ("required-column-with-default", "Give the new NOT NULL column a constant default",
                              "Existing rows get the default (no rewrite for a constant on PostgreSQL 11+), so the "
                              "statement no longer fails on a table with rows. Without a sensible constant: add it "
                              "nullable, backfill in batches, then SET NOT NULL through a validated CHECK.", 1.0,
                              ["system_availability", "data_loss"],
                              ["Choose the constant existing rows get (replace <constant>)",
                               "Or: add nullable, backfill, CHECK (col IS NOT NULL) NOT VALID, VALIDATE, SET NOT NULL"],
                              {"system_availability": 30}),
    "adding-field-with-default": ("add-column-then-backfill", "Add the column without a volatile default, backfill in batches",
                                  "No table rewrite under ACCESS EXCLUSIVE.", 2.0, ["system_availability", "performance"],
                                  ["Add the column", "Set the default for new rows", "Backfill in batches"],
                                  {"system_availability": 40, "performance": 20}),
    "renaming-column": ("expand-contract-rename", "Expand/contract the rename",
                        "Both names work during the transition, so no client breaks.", 4.0,
                        ["system_availability", "rollback_complexity"],
                        ["Add the new column", "Write both", "Backfill", "Move readers", "Drop the old column"],
                        {"system_availability": 30, "rollback_complexity": 10}),
    "renaming-table": ("compatibility-view", "Keep a compatibility view with the old table name",
                       "Clients using the old name keep working until they move.", 1.0,
                       ["system_availability", "rollback_complexity"],
                       ["Rename the table and create the view in one transaction", "Drop the view once clients moved"],
                       {"system_availability": 40, "rollback_complexity": 10}),
    "column-has-dependents": ("handle-dependents-explicitly", "Change or drop each dependent object explicitly first",
                              "Dependents are recreated by the plan itself, never dropped silently by CASCADE.", 3.0,
                              ["system_availability", "rollback_complexity"],
                              ["List the dependents from the dependency report", "Recreate views without the column",
                               "Update function bodies", "Then run the statement without CASCADE"],
                              {"system_availability": 40, "rollback_complexity": 15}),
    "renamed-table-referenced-by-functions": ("update-function-bodies", "Update the function bodies that name the table",
                                              "CREATE OR REPLACE FUNCTION in the same plan so no call fails.", 2.0,
                                              ["system_availability"], ["Edit each function named in the finding",
                                                                        "Add them to the plan after the rename"],
                                              {"system_availability": 25}),
    "lock-queue-hazard": ("wait-for-long-transactions", "Wait for long transactions and use a short lock_timeout",
                          "A waiting ACCESS EXCLUSIVE request blocks every new query on the table.", 0.5,
                          ["system_availability"], ["Check pg_stat_activity for the sessions named",
                                                    "SET lock_timeout = '3s' and retry with backoff"],
                          {"system_availability": 25}),
    "foreign-key-without-index": ("index-foreign-key", "Index the referencing columns",
                                  "Deletes and key updates on the referenced table stop scanning the referencing one.",
                                  0.5, ["performance"], ["CREATE INDEX CONCURRENTLY on the referencing columns"],
                                  {"performance": 15}),
    "ban-truncate-cascade": ("explicit-truncate", "Truncate the referencing tables by name",
                             "Nothing is emptied that the plan does not name.", 0.5, ["data_loss"],
                             ["List the referencing tables", "TRUNCATE them explicitly, without CASCADE"],
                             {"data_loss": 20}),
    "require-timeout-settings": ("set-timeouts", "Set lock_timeout and statement_timeout",
                                 "A blocked lock request gives up instead of stalling the table.", 0.25,
                                 ["system_availability"], ["SET lock_timeout = '5s'", "SET statement_timeout"],
                                 {"system_availability": 10}),
}


class MitigationStrategyEngine:
    def generate_mitigation_strategies(self, risk_assessment, operation_context: dict | None = None,
                                       findings=()) -> list[MitigationStrategy]:
        """Strategies for this assessment: from the lint findings (with their safe SQL), the risk
        factors, and the context (``is_production``, ``has_backup``)."""
        ctx = dict(operation_context or {})
        factors = {f.name for f in risk_assessment.risk_factors}
        level = risk_assessment.risk_level
        strategies: dict[str, MitigationStrategy] = {}
        examples: dict[str, list[str]] = {}
        for finding in findings:
            spec = _BY_RULE.get(finding.rule)
            if not spec:
                continue
            sid, name, desc, effort, cats, steps, reduction = spec
            strategy = strategies.get(sid)
            if strategy is None:
                strategy = strategies[sid] = MitigationStrategy(
                    sid, name, desc, effort, "required" if finding.severity == "error" else "recommended",
                    list(cats), list(steps), None, "guard" if sid in ("set-timeouts", "wait-for-long-transactions")
                    else "dependents" if sid == "handle-dependents-explicitly" else "rewrite", dict(reduction))
            strategy.triggered_by.append(f"{finding.rule} (line {finding.line})")
            if strategy.phase == "rewrite":
                if finding.safe_sql and len(strategy.rewrites) < MAX_REWRITES:
                    # two findings on one statement: their rewrites are one statement's replacement
                    if finding.statement_index in strategy.rewrites:
                        if finding.safe_sql not in strategy.rewrites[finding.statement_index]:
                            strategy.incomplete = True
                    else:
                        strategy.rewrites[finding.statement_index] = finding.safe_sql
                elif finding.statement_index not in strategy.rewrites:
                    strategy.incomplete = True
            if finding.safe_sql:
                examples.setdefault(sid, [])
                if len(examples[sid]) < MAX_SAFE_SQL_EXAMPLES and finding.safe_sql not in examples[sid]:
                    examples[sid].append(finding.safe_sql)
        dependents = strategies.get("handle-dependents-explicitly")
        if dependents is not None:
            _add_dependents_sql(dependents, [f for f in findings if f.rule == "column-has-dependents"], ctx)
        for sid, sqls in examples.items():
            strategy = strategies[sid]
            more = len(strategy.triggered_by) - len(sqls)
            strategy.safe_sql = "\n".join(sqls) + (f"\n-- ... and the same rewrite for {more} more statement(s)"
                                                    if more > 0 else "")
        destroys = factors & {"destroys_data", "irreversible_data_loss"}
        if destroys and not ctx.get("has_backup"):
            strategies["backup-before-destructive-change"] = MitigationStrategy(
                "backup-before-destructive-change", "Back up the data before the destructive statements",
                "Copy the affected rows into the dataflow_backup schema (or take and verify a full backup) first, "
                "so the rollback can restore them.", 1.0, "required", ["data_loss", "rollback_complexity"],
                ["CREATE SCHEMA IF NOT EXISTS dataflow_backup", "CREATE TABLE dataflow_backup.<table> AS TABLE <table>",
                 "Verify row counts", "Record the backup on the plan"],
                _backup_sql(ctx), "prepare", {"data_loss": 30, "rollback_complexity": 25}, sorted(destroys))
        if "cascade" in factors:
            strategies.setdefault("handle-dependents-explicitly", MitigationStrategy(
                "handle-dependents-explicitly", "Replace CASCADE by explicit statements",
                "Name every dependent the CASCADE would drop and handle it in the plan.", 2.0, "required",
                ["data_loss", "rollback_complexity"], ["List dependents", "Drop or change them explicitly",
                                                       "Remove CASCADE"], None, "rewrite",
                {"data_loss": 20, "rollback_complexity": 15}, ["cascade"]))
        heavy = factors & {"blocking_rewrite", "blocking_scan", "lock_queue_hazard", "write_rate"}
        if heavy and (ctx.get("is_production") or level.rank >= RiskBand.HIGH.rank):
            strategies["maintenance-window"] = MitigationStrategy(
                "maintenance-window", "Run in a maintenance window sized to the projected duration",
                "The blocking statements are scheduled when traffic is lowest, with the affected services warned.",
                1.0, "recommended", ["system_availability"],
                ["Pick the window from the projected durations in the risk factors", "Announce it",
                 "Pause batch jobs writing to the tables"], None, "schedule", {"system_availability": 15}, sorted(heavy))
        if level.rank >= RiskBand.HIGH.rank:
            strategies["staging-rehearsal"] = MitigationStrategy(
                "staging-rehearsal", "Rehearse the plan and its rollback on a staging copy",
                "Run the exact SQL and the rollback on a staging copy with data and compare performance baselines.",
                3.0, "required", list(CATEGORIES),
                ["Create a staging environment from production", "Run the plan", "Run the rollback",
                 "Validate performance baselines"], None, "rehearse",
                {"data_loss": 10, "system_availability": 10, "performance": 15, "rollback_complexity": 20},
                [f"risk level {level.value}"])
        return list(strategies.values())

    def prioritize_mitigation_actions(self, strategies: list[MitigationStrategy], risk_assessment) -> MitigationPlan:
        ordered = sorted(strategies, key=lambda s: (PHASES.index(s.phase), _PRIORITY_RANK[s.priority],
                                                    -sum(s.reduction.values()), s.id))
        steps = [MitigationStep(i, s) for i, s in enumerate(ordered, start=1)]
        projected = dict(risk_assessment.category_scores)
        for s in ordered:
            for cat, points in s.reduction.items():
                projected[cat] = max(0, projected.get(cat, 0) - points)
        after = min(combine(projected), risk_assessment.overall_score)
        return MitigationPlan(steps, risk_assessment.overall_score, risk_assessment.risk_level, projected, after,
                              risk_level_for_score(after), round(sum(s.estimated_effort_hours for s in ordered), 2))


def _add_dependents_sql(strategy: MitigationStrategy, findings, ctx: dict) -> None:
    """The dependents' SQL for each dropped or retyped column the findings name (needs the
    analysis's statements and dependency reports in the context; without them the step keeps
    its steps in words)."""
    statements, reports = ctx.get("statements") or [], ctx.get("dependency_reports") or {}
    notes, seen = [], set()
    for finding in findings:
        if finding.statement_index >= len(statements):
            continue
        stmt = statements[finding.statement_index]
        if stmt.kind not in ("DROP_COLUMN", "ALTER_TYPE") or not stmt.objects:
            continue
        schema = stmt.schema or ctx.get("default_schema") or "public"
        for column in stmt.objects[0].columns:
            report = reports.get((schema, stmt.table, column))
            if report is None or (schema, stmt.table, column) in seen:
                continue
            seen.add((schema, stmt.table, column))
            found = dependents_sql(stmt.kind, column, report)
            strategy.sql_before += [sql for sql in found.before if sql not in strategy.sql_before]
            strategy.sql_after += [sql for sql in found.after if sql not in strategy.sql_after]
            notes += found.notes
    if strategy.sql_before or notes:
        lines = [f"-- {note}" for note in notes] + [f"{sql};" for sql in strategy.sql_before]
        lines += ["-- ... the plan's statement runs here ..."] + [f"{sql};" for sql in strategy.sql_after]
        strategy.safe_sql = "\n".join(lines)


def _backup_sql(ctx: dict) -> str | None:
    tables = ctx.get("destroyed_tables") or []
    if not tables:
        return None
    lines = ["CREATE SCHEMA IF NOT EXISTS dataflow_backup;"]
    lines += [f"CREATE TABLE {ident('dataflow_backup', t[1])} AS TABLE {ident(t[0], t[1])};" for t in tables]
    return "\n".join(lines)
