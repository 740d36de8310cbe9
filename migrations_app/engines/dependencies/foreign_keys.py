"""Foreign Key Analyzer (runbook component #138): which foreign keys an operation touches, the
chains of keys around a table, and a plan that keeps them intact with short locks.

All foreign keys of the database come from one catalog query (``fk_edges.sql``); chains and
cycles are walked in memory, deterministically. Re-created constraints keep their ON DELETE /
ON UPDATE rules and deferrability (``pg_get_constraintdef``) and are added ``NOT VALID`` then
validated, so the long scan runs under SHARE UPDATE EXCLUSIVE instead of blocking writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


from migrations_app.engines.dependencies.analyzer import (
    FK_ACTIONS, DependencyAnalysisError, ImpactLevel, ObjectNotFoundError,
)
from migrations_app.engines.dependencies.catalog import catalog_session
from migrations_app.engines.statements.identifiers import ident


class ForeignKeyAnalysisError(DependencyAnalysisError):
    pass


class FKOperationType(Enum):
    DROP_TABLE = "DROP_TABLE"
    DROP_COLUMN = "DROP_COLUMN"
    ALTER_COLUMN_TYPE = "ALTER_COLUMN_TYPE"
    RENAME_TABLE = "RENAME_TABLE"
    RENAME_COLUMN = "RENAME_COLUMN"
    TRUNCATE_TABLE = "TRUNCATE_TABLE"


@dataclass
class ForeignKeyInfo:
    schema: str
    name: str
    source_schema: str
    source_table: str
    source_columns: list[str]
    target_schema: str
    target_table: str
    target_columns: list[str]
    on_delete: str
    on_update: str
    deferrable: bool
    validated: bool
    definition: str

    @property
    def source(self) -> str:
        return f"{self.source_schema}.{self.source_table}"

    @property
    def target(self) -> str:
        return f"{self.target_schema}.{self.target_table}"

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "column_pairs": [list(p) for p in zip(self.source_columns, self.target_columns)]}


@dataclass
class ForeignKeyImpactReport:
    schema: str
    table: str
    operation: FKOperationType
    column: str | None
    incoming: list[ForeignKeyInfo]
    outgoing: list[ForeignKeyInfo]
    affected: list[ForeignKeyInfo]
    impact_level: ImpactLevel
    blocking: bool  # PostgreSQL refuses the operation as written (without CASCADE)
    cascade_tables: list[str]  # tables a CASCADE would reach (TRUNCATE / DROP)
    notes: list[str] = field(default_factory=list)
    sql: str | None = None
    rollback_sql: str | None = None
    cascade_relations: list[tuple[str, str]] = field(default_factory=list)  # (schema, table) pairs

    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.schema, "table": self.table, "operation": self.operation.value, "column": self.column,
                "impact_level": self.impact_level.value, "blocking": self.blocking,
                "cascade_tables": list(self.cascade_tables), "notes": list(self.notes),
                "incoming": [fk.to_dict() for fk in self.incoming], "outgoing": [fk.to_dict() for fk in self.outgoing],
                "affected": [fk.to_dict() for fk in self.affected]}


@dataclass
class ForeignKeyChain:
    direction: str  # "incoming": tables referencing the start, transitively; "outgoing": referenced
    tables: list[str]
    constraints: list[str]
    is_cycle: bool

    @property
    def depth(self) -> int:
        return len(self.constraints)

    def to_dict(self) -> dict[str, Any]:
        return {"direction": self.direction, "tables": list(self.tables), "constraints": list(self.constraints),
                "depth": self.depth, "is_cycle": self.is_cycle}


@dataclass
class ForeignKeyChainReport:
    schema: str
    table: str
    max_depth: int
    chains: list[ForeignKeyChain]
    truncated: bool  # some chain was longer than max_depth

    @property
    def cycles(self) -> list[ForeignKeyChain]:
        return [chain for chain in self.chains if chain.is_cycle]

    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.schema, "table": self.table, "max_depth": self.max_depth, "truncated": self.truncated,
                "chains": [c.to_dict() for c in self.chains], "cycles": [c.to_dict() for c in self.cycles]}


@dataclass
class FKMigrationStep:
    description: str
    sql: str
    rollback_sql: str | None  # None only for a data-destroying step (the plan says so)
    own_transaction: bool = False  # commit before and after: keeps the lock short

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class FKSafeMigrationPlan:
    operation: FKOperationType
    steps: list[FKMigrationStep]
    notes: list[str] = field(default_factory=list)

    @property
    def fully_reversible(self) -> bool:
        return all(step.rollback_sql for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.operation.value, "fully_reversible": self.fully_reversible,
                "notes": list(self.notes), "steps": [s.to_dict() for s in self.steps]}


class ForeignKeyAnalyzer:
    def __init__(self, connection):
        self.connection = connection

    def _load(self, table: str, schema: str, column: str | None = None) -> list[ForeignKeyInfo]:
        with catalog_session(self.connection, ForeignKeyAnalysisError) as session:
            rows = session.fetch("fk_target", {"schema": schema, "table": table, "column": column})
            if not rows:
                raise ObjectNotFoundError(f"table {schema}.{table} does not exist")
            if column is not None and rows[0]["attnum"] is None:
                raise ObjectNotFoundError(f"column {column} does not exist in {schema}.{table}")
            edges = session.fetch("fk_edges", {})
        return [ForeignKeyInfo(r["schema"], r["name"], r["source_schema"], r["source_table"], list(r["source_columns"]),
                               r["target_schema"], r["target_table"], list(r["target_columns"]),
                               FK_ACTIONS.get(r["on_delete"], "NO ACTION"), FK_ACTIONS.get(r["on_update"], "NO ACTION"),
                               r["deferrable"], r["validated"], r["definition"]) for r in edges]

    def analyze_foreign_key_impact(self, table: str, operation, schema: str = "public",
                                   column: str | None = None, sql: str | None = None,
                                   rollback_sql: str | None = None) -> ForeignKeyImpactReport:
        op = FKOperationType(operation.upper() if isinstance(operation, str) else operation.value)
        if op in (FKOperationType.DROP_COLUMN, FKOperationType.ALTER_COLUMN_TYPE, FKOperationType.RENAME_COLUMN) \
                and not column:
            raise ForeignKeyAnalysisError(f"{op.value} needs a column")
        edges = self._load(table, schema, column)
        me = f"{schema}.{table}"
        incoming = [fk for fk in edges if fk.target == me]
        outgoing = [fk for fk in edges if fk.source == me]
        if column:
            affected = [fk for fk in incoming if column in fk.target_columns]
            affected += [fk for fk in outgoing if column in fk.source_columns and fk not in affected]
        else:
            affected = incoming + [fk for fk in outgoing if fk not in incoming]
        from_others = [fk for fk in affected if fk.target == me and fk.source != me]
        notes, cascade, cascade_relations = [], [], []
        if op in (FKOperationType.RENAME_TABLE, FKOperationType.RENAME_COLUMN):
            level, blocking = ImpactLevel.INFORMATIONAL, False
            notes.append("foreign keys bind by OID and column number: they follow a rename unchanged")
        elif op is FKOperationType.ALTER_COLUMN_TYPE:
            level = ImpactLevel.HIGH if affected else ImpactLevel.LOW
            blocking = bool(affected)
            if affected:
                notes.append("both sides of a foreign key must keep comparable types: change them together")
        else:
            if op is FKOperationType.TRUNCATE_TABLE:
                cascade_relations = _reach(edges, me)  # TRUNCATE ... CASCADE empties them transitively
            else:
                # DROP ... CASCADE drops only the keys that reference what goes: their tables, no further
                cascade_relations = sorted({(fk.source_schema, fk.source_table) for fk in from_others})
            cascade = [f"{s}.{t}" for s, t in cascade_relations]
            level = ImpactLevel.CRITICAL if from_others else (ImpactLevel.MEDIUM if affected else ImpactLevel.LOW)
            blocking = bool(from_others)
            if op is FKOperationType.TRUNCATE_TABLE and cascade:
                notes.append("TRUNCATE ... CASCADE would also empty: " + ", ".join(cascade))
        return ForeignKeyImpactReport(schema, table, op, column, incoming, outgoing, affected, level, blocking,
                                      cascade, notes, sql=sql, rollback_sql=rollback_sql,
                                      cascade_relations=cascade_relations)

    def find_all_foreign_key_chains(self, table: str, max_depth: int = 5, schema: str = "public") -> ForeignKeyChainReport:
        if max_depth < 1:
            raise ForeignKeyAnalysisError("max_depth must be at least 1")
        edges = self._load(table, schema)
        chains: list[ForeignKeyChain] = []
        truncated = False
        for direction in ("incoming", "outgoing"):
            step = (lambda fk: (fk.target, fk.source)) if direction == "incoming" else (lambda fk: (fk.source, fk.target))
            graph: dict[str, list[tuple[str, str]]] = {}
            for fk in edges:
                start, end = step(fk)
                graph.setdefault(start, []).append((end, fk.name))
            stack = [([f"{schema}.{table}"], [])]
            while stack:  # depth first, in catalog order: deterministic
                path, names = stack.pop()
                nexts = sorted(graph.get(path[-1], []))
                if not nexts and names:
                    chains.append(ForeignKeyChain(direction, path, names, False))
                for nxt, con in reversed(nexts):
                    if nxt in path:  # a cycle: report it, never follow it
                        chains.append(ForeignKeyChain(direction, path + [nxt], names + [con], True))
                    elif len(names) + 1 >= max_depth:
                        truncated = truncated or bool(graph.get(nxt))
                        chains.append(ForeignKeyChain(direction, path + [nxt], names + [con], False))
                    else:
                        stack.append((path + [nxt], names + [con]))
        return ForeignKeyChainReport(schema, table, max_depth, chains, truncated)

    def generate_fk_safe_migration_plan(self, operation) -> FKSafeMigrationPlan:
        """``operation``: a ``ForeignKeyImpactReport``, or a dict with table, operation, schema,
        column and optionally the operation's own sql / rollback_sql."""
        report = operation
        if isinstance(operation, dict):
            report = self.analyze_foreign_key_impact(
                operation["table"], operation.get("operation") or operation["operation_type"],
                operation.get("schema", "public"), operation.get("column"), operation.get("sql"),
                operation.get("rollback_sql"))
        return build_plan(report)


def build_plan(report: ForeignKeyImpactReport) -> FKSafeMigrationPlan:
    op, me = report.operation, f"{report.schema}.{report.table}"
    plan = FKSafeMigrationPlan(op, [])
    if op in (FKOperationType.RENAME_TABLE, FKOperationType.RENAME_COLUMN):
        plan.notes.append("no foreign key changes: constraints follow the rename")
    if op is FKOperationType.TRUNCATE_TABLE:
        tables = [(report.schema, report.table)] + list(report.cascade_relations)
        names = ", ".join(ident(schema, name) for schema, name in tables)
        plan.steps.append(FKMigrationStep(f"truncate {me} with every table referencing it, named explicitly",
                                          f"TRUNCATE {names};", None))
        plan.notes.append("TRUNCATE destroys data: restore from a backup to undo it")
        return plan
    recreate = op is FKOperationType.ALTER_COLUMN_TYPE
    to_drop = report.affected if op is not FKOperationType.DROP_TABLE else \
        [fk for fk in report.affected if fk.source != me]
    if op in (FKOperationType.RENAME_TABLE, FKOperationType.RENAME_COLUMN):
        to_drop = []
    for fk in to_drop:
        table = ident(fk.source_schema, fk.source_table)
        plan.steps.append(FKMigrationStep(
            f"drop {fk.name} on {fk.source} before the change (instead of CASCADE)",
            f"ALTER TABLE {table} DROP CONSTRAINT {ident(fk.name)};",
            f"ALTER TABLE {table} ADD CONSTRAINT {ident(fk.name)} {_not_valid(fk.definition)};\n"
            f"ALTER TABLE {table} VALIDATE CONSTRAINT {ident(fk.name)};"))
    if report.sql:
        plan.steps.append(FKMigrationStep(f"{op.value.lower()} on {me}", report.sql, report.rollback_sql))
    elif to_drop:
        plan.notes.append(f"run the {op.value} itself between the drop and re-create steps")
    for fk in to_drop if recreate else []:
        table = ident(fk.source_schema, fk.source_table)
        drop = f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {ident(fk.name)};"
        plan.steps.append(FKMigrationStep(
            f"re-create {fk.name} (ON DELETE {fk.on_delete}, ON UPDATE {fk.on_update}) without a full-table lock",
            f"ALTER TABLE {table} ADD CONSTRAINT {ident(fk.name)} {_not_valid(fk.definition)};", drop, True))
        plan.steps.append(FKMigrationStep(
            f"validate {fk.name} (SHARE UPDATE EXCLUSIVE: reads and writes continue)",
            f"ALTER TABLE {table} VALIDATE CONSTRAINT {ident(fk.name)};", drop, True))
    return plan


def _reach(edges: list[ForeignKeyInfo], start: str) -> list[str]:
    """Tables that reference ``start``, transitively (what TRUNCATE/DROP ... CASCADE reaches)."""
    seen: dict[str, tuple[str, str]] = {}
    frontier = [start]
    while frontier:
        current = frontier.pop()
        for fk in edges:
            if fk.target == current and fk.source not in seen and fk.source != start:
                seen[fk.source] = (fk.source_schema, fk.source_table)
                frontier.append(fk.source)
    return [seen[key] for key in sorted(seen)]


def _not_valid(definition: str) -> str:
    return definition if definition.rstrip().endswith("NOT VALID") else f"{definition} NOT VALID"


