"""Dependency Analyzer (runbook TODO-137): what depends on a column or a table.

Everything PostgreSQL tracks is read from the catalog (``pg_depend``, ``pg_rewrite``,
``pg_constraint``, ``pg_index``, ``pg_trigger``, ``pg_policy``, ``pg_attrdef``,
``pg_statistic_ext``, ``pg_publication_rel``, ``pg_partitioned_table``); what it does not
track (string bodies of SQL and PL/pgSQL functions) is parsed with pglast. A fixed number of
queries runs per analysis, whatever the size of the schema. Any catalog error raises
``DependencyAnalysisError``: the analyzer never answers "no dependencies" because it failed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

import psycopg



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


class DependencyAnalyzer:
    """``DependencyAnalyzer(connection)``: a ``TargetConnection`` or an open psycopg connection."""

    def __init__(self, connection):
        self.connection = connection

    def analyze_column_dependencies(self, table: str, column: str, schema: str = "public") -> DependencyReport:
        raise NotImplementedError("catalog queries land in the next commit of issue 3")

    def analyze_table_dependencies(self, table: str, schema: str = "public") -> DependencyReport:
        raise NotImplementedError("catalog queries land in the next commit of issue 3")
