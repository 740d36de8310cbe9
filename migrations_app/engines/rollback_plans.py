"""Rollback plans (runbook: Rollback Procedures) and data preservation.

A plan is fully reversible only when every operation has rollback SQL and none destroys data.
Re-adding a dropped column restores the structure, not the values, so a data-destroying
operation counts as irreversible unless ``preserve_data=True``: then the executor first copies
what will be destroyed into ``dataflow_backup`` (inside the migration's transaction, so the copy
exists exactly when the change does) and the plan restores it after the rollback SQL.

Plans are plain data (``to_dict``/``from_dict``) so the app can store them as JSON and run
them later.
"""

from __future__ import annotations

import dataclasses
import uuid

import psycopg
from psycopg import sql

from migrations_app.engines.catalog import query
from migrations_app.engines.migration_operations import DestroyedData, MigrationOperation, StatementFacts

BACKUP_SCHEMA = "dataflow_backup"


@dataclasses.dataclass
class BackupAction:
    """Runs in the migration transaction just before operation ``operation_index``."""
    operation_index: int
    backup_table: str
    sql: str
    description: str


@dataclasses.dataclass
class RollbackStep:
    operation_index: int
    kind: str               # "rollback_sql" | "restore_rows" | "restore_column" | "drop_backup"
    sql: str
    description: str
    transactional: bool = True


@dataclasses.dataclass
class RollbackPlan:
    fully_reversible: bool
    irreversible_operations: list[dict]
    steps: list[RollbackStep]
    preserve_data: bool = False
    backup_tag: str = ""
    backups: list[BackupAction] = dataclasses.field(default_factory=list)
    schemas: list[str] = dataclasses.field(default_factory=list)
    digest_before: str | None = None   # set by the execution that this plan undoes

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RollbackPlan":
        data = dict(data)
        data["steps"] = [RollbackStep(**s) for s in data.get("steps", [])]
        data["backups"] = [BackupAction(**b) for b in data.get("backups", [])]
        return cls(**data)


def build_rollback_plan(conn: psycopg.Connection | None, operations: list[MigrationOperation],
                        facts: list[StatementFacts], *, preserve_data: bool,
                        backup_tag: str | None = None) -> RollbackPlan:
    """``conn`` is needed only with ``preserve_data`` (to read columns and primary keys)."""
    from migrations_app.engines.migration_operations import analyze_statement

    tag = backup_tag or uuid.uuid4().hex[:10]
    irreversible: list[dict] = []
    backups: list[BackupAction] = []
    steps: list[RollbackStep] = []
    backup_steps: list[RollbackStep] = []
    for index in reversed(range(len(operations))):
        op, fact = operations[index], facts[index]
        reasons = []
        restore: list[RollbackStep] = []
        structural = bool(op.rollback_sql and op.rollback_sql.strip())
        data_only = all(d.kind in ("rows",) or _is_truncate(fact, d) for d in fact.destroyed) and fact.destroyed
        if not structural and not (preserve_data and data_only):
            reasons.append("no rollback SQL")
        if fact.destroys_data:
            if not preserve_data:
                reasons += [d.reason or "destroys data" for d in fact.destroyed] or ["destroys data"]
            else:
                if not fact.destroyed:
                    reasons.append("marked as destroying data, but what it destroys is not known")
                for n, destroyed in enumerate(fact.destroyed):
                    made = _preserve(conn, index, n, destroyed, tag)
                    if isinstance(made, str):
                        reasons.append(made)
                        continue
                    backup, restore_step, drop_step = made
                    backups.append(backup)
                    restore.append(restore_step)
                    backup_steps.append(drop_step)
        if reasons:
            irreversible.append({"operation_index": index, "type": op.type, "table_name": op.table_name,
                                 "sql": op.sql, "reasons": reasons})
        if structural:
            transactional = analyze_statement(op.rollback_sql, default_schema=op.schema).transactional
            steps.append(RollbackStep(index, "rollback_sql", op.rollback_sql.strip(),
                                      op.description or f"undo {op.type} on {op.table_name}", transactional))
        steps += restore
    backups.sort(key=lambda b: b.operation_index)
    schemas = sorted({op.schema for op in operations})
    return RollbackPlan(fully_reversible=not irreversible, irreversible_operations=sorted(
        irreversible, key=lambda item: item["operation_index"]), steps=steps + backup_steps,
        preserve_data=preserve_data, backup_tag=tag, backups=backups, schemas=schemas)


def _is_truncate(fact: StatementFacts, destroyed: DestroyedData) -> bool:
    return fact.kind == "TRUNCATE" and destroyed.kind == "table"


def _preserve(conn, index: int, n: int, d: DestroyedData, tag: str):
    """(backup action, restore step, drop-backup step), or the reason it cannot be preserved."""
    if conn is None:
        return "data preservation needs a connection to read the table's columns"
    columns = conn.execute(query("exec_table_columns"), {"schema": d.schema, "table": d.table}).fetchall()
    if not columns:
        return f"table {d.schema}.{d.table} not found, cannot preserve its data"
    names = [name for name, _ in columns]
    keys = [name for name, in_pk in columns if in_pk]
    backup = sql.Identifier(BACKUP_SCHEMA, f"{tag}_{index}_{n}_{d.table}"[:63])
    source = sql.Identifier(d.schema, d.table)
    cols = sql.SQL(", ").join(map(sql.Identifier, names))
    if d.kind == "column":
        if not keys:
            return f"{d.schema}.{d.table} has no primary key to match the saved {d.column!r} values"
        saved = sql.SQL(", ").join(map(sql.Identifier, keys + [d.column]))
        copy = sql.SQL("CREATE TABLE {} AS SELECT {} FROM {}").format(backup, saved, source)
        match = sql.SQL(" AND ").join(
            sql.SQL("t.{k} = b.{k}").format(k=sql.Identifier(k)) for k in keys)
        restore = sql.SQL("UPDATE {} AS t SET {c} = b.{c} FROM {} AS b WHERE {}").format(
            source, backup, match, c=sql.Identifier(d.column))
        kind, what = "restore_column", f"values of {d.schema}.{d.table}.{d.column}"
    else:
        if d.kind == "rows" and d.where_sql is None and d.reason.endswith("(USING/WITH/alias)"):
            return "DELETE with USING/WITH/alias: the deleted rows cannot be selected beforehand"
        where = sql.SQL(" WHERE ({})").format(sql.SQL(d.where_sql)) if d.where_sql else sql.SQL("")
        copy = sql.SQL("CREATE TABLE {} AS SELECT {} FROM {}{}").format(backup, cols, source, where)
        # OVERRIDING SYSTEM VALUE keeps the original ids of GENERATED ALWAYS identity columns.
        restore = sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {}").format(
            source, cols, cols, backup)
        kind, what = "restore_rows", f"rows of {d.schema}.{d.table}"
    return (BackupAction(index, backup.as_string(None), copy.as_string(None), f"save {what}"),
            RollbackStep(index, kind, restore.as_string(None), f"restore {what}"),
            RollbackStep(index, "drop_backup", sql.SQL("DROP TABLE {}").format(backup).as_string(None),
                         f"drop the backup of {what}"))


def backup_schema_sql() -> str:
    return sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(BACKUP_SCHEMA)).as_string(None)
