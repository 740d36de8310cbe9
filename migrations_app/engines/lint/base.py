"""The pieces every lint rule uses: ``Rule``, ``Finding`` and the plan-wide ``LintContext``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from migrations_app.engines.statements import StatementInfo
from migrations_app.engines.statements.identifiers import ident

SEVERITIES = ("error", "warning", "info")


@dataclass
class Finding:
    rule: str
    severity: str
    message: str
    problem: str
    solution: str
    safe_sql: str | None
    statement_index: int
    line: int
    evidence: dict = field(default_factory=dict)

    def to_dict(self, with_docs: bool = True) -> dict:
        data = {"rule": self.rule, "severity": self.severity, "message": self.message, "safe_sql": self.safe_sql,
                "statement_index": self.statement_index, "line": self.line, "evidence": self.evidence}
        if with_docs:
            data.update(problem=self.problem, solution=self.solution)
        return data


@dataclass
class Rule:
    """A lint rule: stable kebab-case ``id``, the problem, the solution, and a check function."""

    id: str
    severity: str
    problem: str
    solution: str
    needs_catalog: bool = False
    # off unless a review policy switches it on (opt-in rules, like Squawk's, and the naming family)
    enabled_by_default: bool = True
    # the statement kinds the check can fire on (its first test reads ``stmt.kind``): ``lint`` calls it
    # for no other statement; None: every statement
    kinds: frozenset[str] | None = None
    checker: Callable[[StatementInfo, "LintContext"], Iterable[Finding]] | None = None

    def check(self, func):
        self.checker = func
        return func

    def run(self, stmt: StatementInfo, ctx: "LintContext") -> list[Finding]:
        if self.needs_catalog and ctx.facts is None:
            return []
        return list(self.checker(stmt, ctx) or ())

    def finding(self, stmt: StatementInfo, message: str, safe_sql: str | None = None, severity: str | None = None,
                **evidence) -> Finding:
        return Finding(self.id, severity or self.severity, message, self.problem, self.solution, safe_sql,
                       stmt.index, stmt.line, evidence)


def table_ref(stmt: StatementInfo) -> str:
    return ident(stmt.schema, stmt.table)


@dataclass
class LintContext:
    """Plan-wide facts the rules share: transaction blocks, timeouts set so far, new tables,
    live catalog facts (None when static), dependency reports, environment and backup status."""

    statements: list[StatementInfo]
    facts: object | None = None            # risk.CatalogFacts
    dependency_reports: dict = field(default_factory=dict)   # (schema, table, column|None) -> DependencyReport
    default_schema: str = "public"
    is_production: bool = False
    has_backup: bool = False
    assume_session_timeouts: bool = False  # the executor sets lock_timeout/statement_timeout itself
    in_transaction: list[bool] = field(default_factory=list)
    lock_timeout_set: list[bool] = field(default_factory=list)
    statement_timeout_set: list[bool] = field(default_factory=list)
    created_at: dict = field(default_factory=dict)    # (schema, table) -> index of its CREATE TABLE
    depth_before: list[int] = field(default_factory=list)
    open_begins: list[int] = field(default_factory=list)
    rule_options: dict = field(default_factory=dict)   # rule id -> options from the review policy (patterns)
    # what Execute… backs up itself (data_backup.backup_preview: by operation index), None: not known
    data_backup: dict | None = None
    operation_of: list[int] = field(default_factory=list)   # statement index -> operation index
    _memo: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        depth, lock_t, stmt_t = 0, self.assume_session_timeouts, self.assume_session_timeouts
        for stmt in self.statements:
            if stmt.kind == "SET" and not stmt.details.get("reset"):
                name = (stmt.details.get("name") or "").lower()
                lock_t = lock_t or name == "lock_timeout"
                stmt_t = stmt_t or name == "statement_timeout"
            self.depth_before.append(depth)
            self.in_transaction.append(depth > 0 and stmt.kind not in ("BEGIN", "COMMIT", "ROLLBACK"))
            self.lock_timeout_set.append(lock_t)
            self.statement_timeout_set.append(stmt_t)
            if stmt.kind == "BEGIN":
                depth += 1
                self.open_begins.append(stmt.index)
            elif stmt.kind in ("COMMIT", "ROLLBACK"):
                depth = max(0, depth - 1)
                self.open_begins = self.open_begins[:-1]
            if stmt.kind == "CREATE_TABLE" and stmt.table:
                self.created_at.setdefault((self.schema_of(stmt), stmt.table), stmt.index)

    def memo(self, key: str, compute):
        """Plan-wide values a rule computes once (keeps every rule linear in the plan size)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def in_transaction_before(self, index: int) -> bool:
        return self.depth_before[index] > 0

    def last_begin_without_commit(self) -> int | None:
        return self.open_begins[0] if self.open_begins else None

    def schema_of(self, stmt: StatementInfo) -> str:
        return stmt.schema or self.default_schema

    def is_new_table(self, stmt: StatementInfo) -> bool:
        """True when the plan created the table earlier: it is empty and unseen, most rules do not apply."""
        created = self.created_at.get((self.schema_of(stmt), stmt.table))
        return created is not None and created < stmt.index

    def table_facts(self, stmt: StatementInfo):
        return self.facts.table(self.schema_of(stmt), stmt.table) if self.facts is not None else None


def declared_types(stmt: StatementInfo) -> list[tuple[str, dict]]:
    """(column, type info) for every column type the statement declares (CREATE TABLE, ADD COLUMN, ALTER TYPE)."""
    if stmt.kind == "CREATE_TABLE":
        return [(c["column"], c["type"]) for c in stmt.details.get("column_types", [])]
    if "added_columns" in stmt.details:
        return [(c["name"], c["type_info"]) for c in stmt.details["added_columns"]]
    if stmt.kind == "ALTER_TYPE" and "new_type" in stmt.details:
        return [(stmt.column, stmt.details["new_type"])]
    return []
