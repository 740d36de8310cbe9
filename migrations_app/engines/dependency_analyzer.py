"""Dependency Analyzer (runbook component #137): what depends on a column or a table.

Everything PostgreSQL tracks is read from the catalog (``pg_depend``, ``pg_rewrite``,
``pg_constraint``, ``pg_index``, ``pg_trigger``, ``pg_policy``, ``pg_attrdef``,
``pg_statistic_ext``, ``pg_publication_rel``, ``pg_partitioned_table``); what it does not
track (string bodies of SQL and PL/pgSQL functions) is parsed with pglast. A fixed number of
queries runs per analysis, whatever the size of the schema. Any catalog error raises
``DependencyAnalysisError``: the analyzer never answers "no dependencies" because it failed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from migrations_app.engines.dependency_catalog import catalog_session, system_schema
from migrations_app.engines.plpgsql_refs import BodyParseError, TableTarget, find_references



class DependencyAnalysisError(Exception):
    """The analysis could not be completed; the message says why (never a partial answer)."""


class ObjectNotFoundError(DependencyAnalysisError):
    """The table or column named does not exist in the schema given."""


class ImpactLevel(Enum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    INFORMATIONAL = "INFORMATIONAL"

    @property
    def rank(self) -> int:
        return _IMPACT_RANK[self]


_IMPACT_RANK = {
    ImpactLevel.CRITICAL: 4,
    ImpactLevel.HIGH: 3,
    ImpactLevel.MEDIUM: 2,
    ImpactLevel.LOW: 1,
    ImpactLevel.INFORMATIONAL: 0,
}


class DependencyType(Enum):
    FOREIGN_KEY_INCOMING = "FOREIGN_KEY_INCOMING"
    FOREIGN_KEY_OUTGOING = "FOREIGN_KEY_OUTGOING"
    VIEW = "VIEW"
    MATERIALIZED_VIEW = "MATERIALIZED_VIEW"
    INDEX = "INDEX"
    PRIMARY_KEY = "PRIMARY_KEY"
    UNIQUE_CONSTRAINT = "UNIQUE_CONSTRAINT"
    CHECK_CONSTRAINT = "CHECK_CONSTRAINT"
    EXCLUSION_CONSTRAINT = "EXCLUSION_CONSTRAINT"
    NOT_NULL = "NOT_NULL"
    TRIGGER = "TRIGGER"
    FUNCTION = "FUNCTION"
    PROCEDURE = "PROCEDURE"
    POLICY = "POLICY"
    GENERATED_COLUMN = "GENERATED_COLUMN"
    DEFAULT = "DEFAULT"
    RULE = "RULE"
    STATISTICS = "STATISTICS"
    SEQUENCE = "SEQUENCE"
    PARTITION_KEY = "PARTITION_KEY"
    PUBLICATION = "PUBLICATION"


class RemovalRecommendation(Enum):
    SAFE = "SAFE"
    LOW_RISK = "LOW_RISK"
    REVIEW = "REVIEW"
    CAUTION = "CAUTION"
    DANGEROUS = "DANGEROUS"


@dataclass
class Dependency:
    type: DependencyType
    schema: str
    name: str
    table: str | None
    columns: list[str]
    definition: str
    impact: ImpactLevel
    reason: str
    path: list[str] = field(default_factory=list)
    line: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "schema": self.schema,
            "name": self.name,
            "table": self.table,
            "columns": list(self.columns),
            "definition": self.definition,
            "impact": self.impact.value,
            "reason": self.reason,
            "path": list(self.path),
            "line": self.line,
            "extra": dict(self.extra),
        }


@dataclass
class DependencyReport:
    schema: str
    table: str
    column: str | None
    dependencies: list[Dependency] = field(default_factory=list)
    column_type: str | None = None
    analyzed_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    duration_ms: float = 0.0
    queries_run: int = 0

    def get_total_dependency_count(self) -> int:
        return len(self.dependencies)

    def get_critical_dependencies(self) -> list[Dependency]:
        return [dep for dep in self.dependencies if dep.impact is ImpactLevel.CRITICAL]

    def get_dependencies_by_type(self, dep_type: DependencyType) -> list[Dependency]:
        return [dep for dep in self.dependencies if dep.type is dep_type]

    def highest_impact(self) -> ImpactLevel | None:
        if not self.dependencies:
            return None
        return max((dep.impact for dep in self.dependencies), key=lambda level: level.rank)

    def generate_impact_summary(self) -> dict[str, Any]:
        by_level = {level.value: 0 for level in ImpactLevel}
        by_type: dict[str, int] = {}
        for dep in self.dependencies:
            by_level[dep.impact.value] += 1
            by_type[dep.type.value] = by_type.get(dep.type.value, 0) + 1
        highest = self.highest_impact()
        return {
            "total": self.get_total_dependency_count(),
            "by_impact": by_level,
            "by_type": dict(sorted(by_type.items())),
            "highest_impact": highest.value if highest else None,
            "recommendation": self.get_removal_recommendation().value,
        }

    def get_removal_recommendation(self) -> RemovalRecommendation:
        highest = self.highest_impact()
        if highest is None:
            return RemovalRecommendation.SAFE
        return {
            ImpactLevel.CRITICAL: RemovalRecommendation.DANGEROUS,
            ImpactLevel.HIGH: RemovalRecommendation.CAUTION,
            ImpactLevel.MEDIUM: RemovalRecommendation.REVIEW,
            ImpactLevel.LOW: RemovalRecommendation.LOW_RISK,
            ImpactLevel.INFORMATIONAL: RemovalRecommendation.LOW_RISK,
        }[highest]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "table": self.table,
            "column": self.column,
            "column_type": self.column_type,
            "analyzed_at": self.analyzed_at.isoformat(),
            "duration_ms": round(self.duration_ms, 3),
            "queries_run": self.queries_run,
            "total_dependencies": self.get_total_dependency_count(),
            "critical_dependencies": len(self.get_critical_dependencies()),
            "removal_recommendation": self.get_removal_recommendation().value,
            "impact_summary": self.generate_impact_summary(),
            "dependencies": [dep.to_dict() for dep in self.dependencies],
        }


FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}

_I = ImpactLevel
_T = DependencyType

# (impact, reason) for a column about to be dropped or changed.
_COLUMN_RULES: dict[DependencyType, tuple[ImpactLevel, str]] = {
    _T.VIEW: (_I.CRITICAL, "the view reads the column: DROP COLUMN fails unless CASCADE, which drops the view"),
    _T.MATERIALIZED_VIEW: (_I.CRITICAL, "the materialized view reads the column: CASCADE would drop it and its data"),
    _T.FOREIGN_KEY_INCOMING: (_I.CRITICAL, "rows of another table reference this column: dropping it drops the constraint"),
    _T.FOREIGN_KEY_OUTGOING: (_I.MEDIUM, "the column's own foreign key is dropped with it: that reference is no longer enforced"),
    _T.PRIMARY_KEY: (_I.CRITICAL, "the column is part of the primary key: row identity and referencing keys depend on it"),
    _T.UNIQUE_CONSTRAINT: (_I.HIGH, "the unique constraint is dropped with the column: duplicates become possible"),
    _T.EXCLUSION_CONSTRAINT: (_I.HIGH, "the exclusion constraint is dropped with the column"),
    _T.CHECK_CONSTRAINT: (_I.MEDIUM, "the check constraint is dropped with the column"),
    _T.INDEX: (_I.MEDIUM, "the index is dropped with the column: queries using it get slower"),
    _T.NOT_NULL: (_I.INFORMATIONAL, "the column is NOT NULL: changing it needs values for every row"),
    _T.TRIGGER: (_I.HIGH, "the trigger names the column (UPDATE OF or WHEN): it is dropped with the column"),
    _T.FUNCTION: (_I.HIGH, "the function body uses the column; PostgreSQL does not track it, so it fails at its next call"),
    _T.PROCEDURE: (_I.HIGH, "the procedure body uses the column; PostgreSQL does not track it, so it fails at its next call"),
    _T.POLICY: (_I.CRITICAL, "the row-level security policy uses the column: dropping it changes who sees which rows"),
    _T.GENERATED_COLUMN: (_I.HIGH, "another column is generated from this one: CASCADE drops that column and its data"),
    _T.DEFAULT: (_I.INFORMATIONAL, "the column's own default goes with it"),
    _T.RULE: (_I.HIGH, "the rewrite rule uses the column: CASCADE drops the rule"),
    _T.STATISTICS: (_I.LOW, "the extended statistics object is dropped with the column"),
    _T.SEQUENCE: (_I.MEDIUM, "the sequence is owned by the column and is dropped with it"),
    _T.PARTITION_KEY: (_I.CRITICAL, "the column is in a partition key: PostgreSQL refuses to drop or retype it"),
    _T.PUBLICATION: (_I.HIGH, "a publication column list names the column: subscribers are affected"),
}

# For a table-level operation, objects that belong to the table go with it.
_TABLE_OWN = (_I.INFORMATIONAL, "belongs to the table and goes with it")
_TABLE_RULES: dict[DependencyType, tuple[ImpactLevel, str]] = {
    _T.VIEW: (_I.CRITICAL, "the view reads the table: DROP TABLE fails unless CASCADE, which drops the view"),
    _T.MATERIALIZED_VIEW: (_I.CRITICAL, "the materialized view reads the table: CASCADE would drop it and its data"),
    _T.FOREIGN_KEY_INCOMING: (_I.CRITICAL, "another table references this table: dropping it drops the constraint"),
    _T.FOREIGN_KEY_OUTGOING: (_I.LOW, "the table's own foreign key goes with it"),
    _T.FUNCTION: _COLUMN_RULES[_T.FUNCTION][:1] + ("the function body uses the table; PostgreSQL does not track it",),
    _T.PROCEDURE: _COLUMN_RULES[_T.PROCEDURE][:1] + ("the procedure body uses the table; PostgreSQL does not track it",),
    _T.RULE: (_I.HIGH, "the rewrite rule uses the table"),
    _T.PUBLICATION: (_I.HIGH, "the table is published: subscribers are affected"),
    _T.PARTITION_KEY: (_I.HIGH, "the table is a partition: it is part of its parent's data"),
}


class DependencyAnalyzer:
    """``DependencyAnalyzer(connection)``: a ``TargetConnection`` or an open psycopg connection."""

    def __init__(self, connection):
        self.connection = connection

    def analyze_column_dependencies(self, table: str, column: str, schema: str = "public") -> DependencyReport:
        if not column:
            raise ObjectNotFoundError("a column name is required")
        return self._analyze(table, column, schema)

    def analyze_table_dependencies(self, table: str, schema: str = "public") -> DependencyReport:
        return self._analyze(table, None, schema)

    # -- the analysis: one query, one round trip, whatever the size of the schema ----------
    def _analyze(self, table: str, column: str | None, schema: str) -> DependencyReport:
        with catalog_session(self.connection, DependencyAnalysisError) as session:
            return self.analyze_with_session(session, table, column, schema)

    def analyze_with_session(self, session, table: str, column: str | None, schema: str) -> DependencyReport:
        """The analysis on an open ``CatalogSession`` (the rename analyzer shares its session)."""
        started = time.perf_counter()
        before = session.queries_run
        # Target, catalog dependents and candidate function bodies come back together (as
        # JSON) from a single statement: one round trip and one snapshot.
        row = session.fetch("dep_analysis", {"schema": schema, "table": table, "column": column,
                                             "needle": column or table})[0]
        target = row["target"]
        if target is None:
            raise ObjectNotFoundError(f"table {schema}.{table} does not exist")
        if column is not None and target["attnum"] is None:
            raise ObjectNotFoundError(f"column {column} does not exist in {schema}.{table}")
        queries = session.queries_run - before
        report = DependencyReport(schema=schema, table=table, column=column,
                                  column_type=target["column_type"], queries_run=queries)
        rules = _COLUMN_RULES if column else _TABLE_RULES
        deps = [dep for dep_row in row["dependents"] for dep in self._from_catalog(dep_row, target, column, rules)]
        deps += self._from_target(target, column)
        deps += self._from_bodies(row["bodies"], schema, table, column, rules)
        deps.sort(key=lambda d: (-d.impact.rank, d.type.value, d.schema, d.name, d.line or 0))
        report.dependencies = deps
        report.duration_ms = (time.perf_counter() - started) * 1000
        return report

    def _from_target(self, target: dict, column: str | None) -> list[Dependency]:
        out = []
        if column and target["attnotnull"]:
            impact, reason = _COLUMN_RULES[_T.NOT_NULL]
            out.append(Dependency(_T.NOT_NULL, target["schema"], f"{column} NOT NULL", target["table_name"], [column],
                                  "NOT NULL", impact, reason))
        for parent in target["partition_key_of"]:
            impact, reason = (_COLUMN_RULES if column else _TABLE_RULES)[_T.PARTITION_KEY]
            parent_schema, _, parent_table = parent.partition(".")
            out.append(Dependency(_T.PARTITION_KEY, parent_schema, parent_table, parent_table,
                                  [column] if column else [], f"PARTITION BY {target['partition_key_def']}",
                                  impact, reason))
        return out

    def _from_catalog(self, row: dict, target: dict, column: str | None, rules) -> list[Dependency]:
        kind, extra = row["kind"], dict(row["extra"] or {})
        if kind == "SKIP":
            return []
        if kind == "UNKNOWN" or kind.startswith("RELATION:"):
            raise DependencyAnalysisError(f"unclassified dependent object {row['name'] or kind}: refusing to guess its impact")
        columns = sorted(row["columns"] or [])

        def make(dep_type, *, reason=None, impact=None, **kw) -> Dependency:
            level, why = rules.get(dep_type, _TABLE_OWN)
            return Dependency(dep_type, row["schema"], row["name"], row["table_name"], kw.pop("cols", columns),
                              row["definition"] or "", impact or level, reason or why,
                              path=list(row["path"] or []), extra=extra, **kw)

        if kind in ("VIEW", "MATERIALIZED_VIEW"):
            dep = make(_T(kind))
            if row["depth"] > 1:
                dep.reason += f" (built on {row['path'][-2]}, which reads it)"
            return [dep]
        if kind == "CONSTRAINT":
            return self._constraint(row, extra, column, make)
        if kind == "INDEX":
            if extra.get("constraint"):
                return []  # reported as its constraint
            dep = make(_T.INDEX)
            if extra.get("unique"):
                dep.impact = _I.HIGH if column else dep.impact
                dep.reason = dep.reason if not column else "the unique index is dropped with the column: duplicates become possible"
            return [dep]
        if kind in ("GENERATED_COLUMN", "DEFAULT"):
            if extra.get("own_column") and column:
                return [make(_T.DEFAULT, reason="the column's own default or generation expression goes with it",
                             impact=_I.INFORMATIONAL)]
            return [make(_T(kind))]
        if kind in ("FUNCTION", "PROCEDURE"):
            # SQL-standard bodies are tracked: the drop fails unless CASCADE drops the routine.
            return [make(_T(kind), impact=_I.CRITICAL,
                         reason="the routine's SQL-standard body is bound to it: CASCADE would drop the routine")]
        return [make(_T(kind))]

    def _constraint(self, row, extra, column, make) -> list[Dependency]:
        contype = extra["contype"]
        if contype != "f":
            dep_type = {"p": _T.PRIMARY_KEY, "u": _T.UNIQUE_CONSTRAINT, "c": _T.CHECK_CONSTRAINT,
                        "x": _T.EXCLUSION_CONSTRAINT}.get(contype)
            if dep_type is None:
                raise DependencyAnalysisError(f"unclassified constraint {row['name']} of type {contype!r}")
            return [make(dep_type)]
        local, referenced = extra.get("local_columns") or [], extra.get("referenced_columns") or []
        extra["column_pairs"] = [list(pair) for pair in zip(local, referenced)]
        extra["on_delete"] = FK_ACTIONS.get(extra.pop("on_delete", "a"), "NO ACTION")
        extra["on_update"] = FK_ACTIONS.get(extra.pop("on_update", "a"), "NO ACTION")
        rules_text = f" (ON DELETE {extra['on_delete']}, ON UPDATE {extra['on_update']})"
        out = []
        incoming = extra["confrelid_is_target"] and (column is None or column in referenced)
        outgoing = extra["conrelid_is_target"] and (column is None or column in local)
        if incoming and not (column is None and extra["conrelid_is_target"]):
            dep = make(_T.FOREIGN_KEY_INCOMING, cols=list(local))
            dep.reason += rules_text
            out.append(dep)
        if outgoing:
            dep = make(_T.FOREIGN_KEY_OUTGOING, cols=list(local))
            dep.reason += rules_text
            out.append(dep)
        return out

    def _from_bodies(self, bodies, schema, table, column, rules) -> list[Dependency]:
        out = []
        for fn in bodies:
            dep_type = _T.PROCEDURE if fn["prokind"] == "p" else _T.FUNCTION
            search_path = [part.strip().strip('"') for item in fn["config"] if item.startswith("search_path=")
                           for part in item.split("=", 1)[1].split(",")]
            unqualified = schema in search_path if search_path else schema in ("public", fn["schema"])
            name = f"{fn['name']}({fn['identity_arguments']})"
            try:
                refs = find_references(language=fn["language"], body=fn["body"],
                                       target=TableTarget(schema, table, unqualified), column=column,
                                       signature=fn["arguments"], returns=fn["result"] or "void",
                                       is_procedure=fn["prokind"] == "p",
                                       trigger_on_target=fn["trigger_on_target"])
            except BodyParseError as exc:
                # Fail closed: a body we cannot read is a finding to review, not a clean bill.
                out.append(Dependency(dep_type, fn["schema"], name, None, [column] if column else [], fn["body"],
                                      _I.MEDIUM, f"the body mentions the name but could not be parsed ({exc}): review it by hand",
                                      extra={"language": fn["language"], "parse_error": str(exc)}))
                continue
            if not refs:
                continue
            impact, reason = rules[dep_type]
            first = min(refs, key=lambda r: r.line)
            if fn["trigger_on_target"]:
                reason += "; it runs as a trigger function on this table"
            if all(ref.dynamic for ref in refs):
                reason += " (inside dynamic SQL)"
            out.append(Dependency(dep_type, fn["schema"], name, None, [column] if column else [], fn["body"],
                                  impact, reason, line=first.line,
                                  extra={"language": fn["language"], "lines": sorted({r.line for r in refs}),
                                         "trigger_function": fn["trigger_on_target"],
                                         "statement": first.context[:500]}))
        return out
