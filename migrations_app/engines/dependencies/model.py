"""The dependency analyzer's vocabulary: dependency types, impact levels, the report, and the
impact and reason each kind of dependent gets when a column or a table is dropped or changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any


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
    PARTITION = "PARTITION"
    CHILD_TABLE = "CHILD_TABLE"
    INHERITED_COLUMN = "INHERITED_COLUMN"
    COLUMN = "COLUMN"
    TYPE_ATTRIBUTE = "TYPE_ATTRIBUTE"
    DOMAIN = "DOMAIN"
    INHERITED_FROM = "INHERITED_FROM"
    UNKNOWN = "UNKNOWN"


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
    # facts on the target itself: relkind, grants, row-level security, server version
    table_facts: dict[str, Any] = field(default_factory=dict)

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
            "table_facts": {k: v for k, v in self.table_facts.items() if k != "privileges"},
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
COLUMN_RULES: dict[DependencyType, tuple[ImpactLevel, str]] = {
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
    _T.TRIGGER: (_I.HIGH, "the trigger names the column (UPDATE OF or WHEN): DROP COLUMN fails unless CASCADE, which drops the trigger"),
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
    _T.INHERITED_COLUMN: (_I.HIGH, "the child table inherits the column: it is dropped there too, with its data"),
    _T.COLUMN: (_I.CRITICAL, "the column depends on it: CASCADE drops that column and its data"),
    _T.TYPE_ATTRIBUTE: (_I.HIGH, "the composite type's attribute depends on it: CASCADE drops the attribute"),
    _T.DOMAIN: (_I.CRITICAL, "the domain is built on it: CASCADE drops the domain and every column using it"),
    _T.PARTITION: (_I.HIGH, "a partition depends on it: CASCADE drops the partition with its rows"),
    _T.CHILD_TABLE: (_I.CRITICAL, "a table depends on it: CASCADE drops that table with its rows"),
    _T.INHERITED_FROM: (_I.CRITICAL, "the column is inherited: PostgreSQL refuses to drop or rename it on the child"),
    _T.UNKNOWN: (_I.HIGH, "PostgreSQL records it as depending on the object, and the analyzer cannot classify it: "
                          "CASCADE would drop it; review it by hand"),
}

# For a table-level operation, objects that belong to the table go with it.
TABLE_OWN = (_I.INFORMATIONAL, "belongs to the table and goes with it")
TABLE_RULES: dict[DependencyType, tuple[ImpactLevel, str]] = {
    _T.VIEW: (_I.CRITICAL, "the view reads the table: DROP TABLE fails unless CASCADE, which drops the view"),
    _T.MATERIALIZED_VIEW: (_I.CRITICAL, "the materialized view reads the table: CASCADE would drop it and its data"),
    _T.FOREIGN_KEY_INCOMING: (_I.CRITICAL, "another table references this table: dropping it drops the constraint"),
    _T.FOREIGN_KEY_OUTGOING: (_I.LOW, "the table's own foreign key goes with it"),
    _T.FUNCTION: COLUMN_RULES[_T.FUNCTION][:1] + ("the function body uses the table; PostgreSQL does not track it",),
    _T.PROCEDURE: COLUMN_RULES[_T.PROCEDURE][:1] + ("the procedure body uses the table; PostgreSQL does not track it",),
    _T.RULE: (_I.HIGH, "the rewrite rule uses the table"),
    _T.PUBLICATION: (_I.HIGH, "the table is published: subscribers are affected"),
    _T.PARTITION_KEY: (_I.HIGH, "the table is a partition: it is part of its parent's data"),
    _T.PARTITION: (_I.HIGH, "a partition of the table: it is dropped with its parent, with its rows"),
    _T.CHILD_TABLE: (_I.CRITICAL, "the table inherits from it: DROP fails unless CASCADE, which drops the child and its rows"),
    _T.COLUMN: (_I.CRITICAL, "the column's type is the table's row type: CASCADE drops that column and its data"),
    _T.TYPE_ATTRIBUTE: COLUMN_RULES[_T.TYPE_ATTRIBUTE],
    _T.DOMAIN: (_I.CRITICAL, "the domain is over the table's row type: CASCADE drops it and every column using it"),
    _T.DEFAULT: (_I.HIGH, "the default of a column elsewhere uses an object the drop removes (an owned sequence): "
                          "CASCADE removes the default, inserts then get NULL or fail"),
    _T.POLICY: (_I.CRITICAL, "a row-level security policy on another table reads this table: CASCADE drops it and "
                             "changes who sees which rows"),
    _T.TRIGGER: (_I.HIGH, "a trigger on another table depends on it: CASCADE drops it"),
    _T.UNKNOWN: COLUMN_RULES[_T.UNKNOWN],
}
# Dependents on the dropped table itself (its indexes, constraints, triggers, ...) go with it.
TABLE_OWN_TYPES = {_T.INDEX, _T.PRIMARY_KEY, _T.UNIQUE_CONSTRAINT, _T.CHECK_CONSTRAINT, _T.EXCLUSION_CONSTRAINT,
                   _T.TRIGGER, _T.POLICY, _T.RULE, _T.STATISTICS, _T.SEQUENCE, _T.DEFAULT, _T.GENERATED_COLUMN,
                   _T.NOT_NULL}
