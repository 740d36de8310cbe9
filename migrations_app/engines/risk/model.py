"""What a risk assessment is made of: categories and weights, the runbook's bands, factors and
assessments, and the per-operation context the factors are scored from."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


CATEGORIES = ("data_loss", "system_availability", "performance", "rollback_complexity")
WEIGHTS = {"data_loss": 0.35, "system_availability": 0.30, "performance": 0.15, "rollback_complexity": 0.20}
WORST_CATEGORY_MARGIN = 15


class RiskBand(Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return ("LOW", "MEDIUM", "HIGH", "CRITICAL").index(self.value)

    @property
    def floor(self) -> int:
        return (0, 31, 61, 81)[self.rank]


def risk_level_for_score(score: float) -> RiskBand:
    """Runbook bands: LOW 0-30, MEDIUM 31-60, HIGH 61-80, CRITICAL 81-100."""
    if score >= 81:
        return RiskBand.CRITICAL
    if score >= 61:
        return RiskBand.HIGH
    if score >= 31:
        return RiskBand.MEDIUM
    return RiskBand.LOW


def combine(category_scores: dict[str, int]) -> int:
    """Overall score: weighted mean, raised to (worst - 15) and to one band below the worst band."""
    weighted = sum(WEIGHTS[c] * category_scores.get(c, 0) for c in CATEGORIES)
    worst = max(category_scores.values(), default=0)
    # one band below the worst category's band (bands of risk_level_for_score: 81, 61, 31)
    floor = 61 if worst >= 81 else 31 if worst >= 61 else 0
    return int(round(min(100, max(weighted, worst - WORST_CATEGORY_MARGIN, floor))))


def _band_name(score: float) -> str:
    """``risk_level_for_score(score).value`` without the enum (once per category of every operation)."""
    return "CRITICAL" if score >= 81 else "HIGH" if score >= 61 else "MEDIUM" if score >= 31 else "LOW"


@dataclass
class RiskFactor:
    name: str
    points: int
    category: str
    evidence: str

    def to_dict(self) -> dict:
        return {"name": self.name, "points": self.points, "category": self.category, "evidence": self.evidence}


@dataclass
class RiskAssessment:
    risk_level: RiskBand
    overall_score: int
    category_scores: dict[str, int]
    risk_factors: list[RiskFactor] = field(default_factory=list)
    operation: dict = field(default_factory=dict)

    @property
    def category_levels(self) -> dict[str, str]:
        return {c: _band_name(s) for c, s in self.category_scores.items()}

    def to_dict(self) -> dict:
        return {"risk_level": self.risk_level.value, "overall_score": self.overall_score,
                "category_scores": dict(self.category_scores), "category_levels": self.category_levels,
                "factors": [f.to_dict() for f in self.risk_factors], "operation": self.operation}


@dataclass
class PlanRiskAssessment(RiskAssessment):
    operations: list[RiskAssessment] = field(default_factory=list)
    floors: list[dict] = field(default_factory=list)   # findings that raised the level (floors)

    def to_dict(self) -> dict:
        data = super().to_dict()
        data["operations"] = [op.to_dict() for op in self.operations]
        data["floors"] = list(self.floors)
        return data


# Defaults for the runbook's dict operations, by operation type.
OPERATION_DEFAULTS = {
    "DROP_COLUMN": dict(lock_mode="ACCESS EXCLUSIVE", destroys_data=True),
    "DROP_TABLE": dict(lock_mode="ACCESS EXCLUSIVE", destroys_data=True),
    "TRUNCATE": dict(lock_mode="ACCESS EXCLUSIVE", destroys_data=True),
    "ALTER_TYPE": dict(lock_mode="ACCESS EXCLUSIVE", rewrites_table=True),
    "MODIFY_COLUMN": dict(lock_mode="ACCESS EXCLUSIVE", rewrites_table=True),
    "SET_NOT_NULL": dict(lock_mode="ACCESS EXCLUSIVE", scans_table=True),
    "ADD_COLUMN": dict(lock_mode="ACCESS EXCLUSIVE"),
    "RENAME_COLUMN": dict(lock_mode="ACCESS EXCLUSIVE"),
    "RENAME_TABLE": dict(lock_mode="ACCESS EXCLUSIVE"),
    "CREATE_INDEX": dict(lock_mode="SHARE", scans_table=True),
    "DROP_INDEX": dict(lock_mode="ACCESS EXCLUSIVE"),
    "ADD_CONSTRAINT": dict(lock_mode="ACCESS EXCLUSIVE", scans_table=True),
    "DELETE": dict(lock_mode="ROW EXCLUSIVE", destroys_data=True, scans_table=True),
    "UPDATE": dict(lock_mode="ROW EXCLUSIVE", destroys_data=True, scans_table=True),
}
DATA_LOSS_BASE = {"DROP_TABLE": 55, "TRUNCATE": 55, "DROP_SCHEMA": 70, "DROP_DATABASE": 90, "DROP_COLUMN": 35,
                  "DELETE": 35, "UPDATE": 20}
LOCK_POINTS = {"ACCESS EXCLUSIVE": 10, "EXCLUSIVE": 8, "SHARE ROW EXCLUSIVE": 8, "SHARE": 8,
               "SHARE UPDATE EXCLUSIVE": 2}


@dataclass
class OperationContext:
    """The normalised operation: from the runbook dict, a ``StatementInfo`` or a plan operation."""

    operation_type: str
    table: str | None = None
    schema: str = "public"
    column: str | None = None
    is_production: bool = False
    has_backup: bool = False
    lock_mode: str | None = None
    rewrites_table: bool = False
    scans_table: bool = False
    destroys_data: bool = False
    transactional: bool = True
    cascade: bool = False
    has_where: bool = True
    rollback_sql: str | None = None
    rollback_known: bool = False
    row_count: int | None = None
    table_size_bytes: int | None = None
    heap_bytes: int | None = None
    writes_per_second: float | None = None
    write_rate_evidence: str | None = None
    long_transactions: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    sql: str | None = None

    @classmethod
    def build(cls, operation, *, facts: CatalogFacts | None = None, default_schema="public", **overrides):
        if isinstance(operation, dict):
            op_type = str(operation.get("operation_type") or operation.get("type") or "OTHER").upper()
            values = dict(OPERATION_DEFAULTS.get(op_type, {}))
            values.update({k: v for k, v in operation.items() if k in cls.__dataclass_fields__ and v is not None})
            values["operation_type"] = "ALTER_TYPE" if op_type == "MODIFY_COLUMN" else op_type
            values.setdefault("schema", default_schema)
        else:
            stmt = operation
            values = dict(operation_type=stmt.kind, table=stmt.table, schema=stmt.schema or default_schema,
                          column=stmt.column, lock_mode=stmt.lock_mode, rewrites_table=stmt.rewrites_table,
                          scans_table=stmt.scans_table, destroys_data=stmt.destroys_data,
                          transactional=stmt.transactional, cascade=bool(stmt.details.get("cascade")),
                          has_where=stmt.details.get("has_where", True), sql=stmt.sql)
        values.update({k: v for k, v in overrides.items() if v is not None})
        ctx = cls(**values)
        if facts is not None and ctx.table:
            table = facts.table(ctx.schema, ctx.table)
            if table is not None:
                ctx.row_count = table.rows if ctx.row_count is None else ctx.row_count
                ctx.table_size_bytes = table.total_bytes if ctx.table_size_bytes is None else ctx.table_size_bytes
                ctx.heap_bytes = table.heap_bytes
                ctx.writes_per_second = table.writes_per_second
                ctx.write_rate_evidence = table.describe_write_rate()
                ctx.long_transactions = facts.long_transactions(ctx.schema, ctx.table)
        return ctx
