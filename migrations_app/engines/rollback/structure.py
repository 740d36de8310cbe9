"""What a DROP COLUMN rollback must rebuild besides the column itself.

PostgreSQL drops a column's NOT NULL, its indexes (also multi-column and expression indexes
that use it) and every constraint naming it. The operation's rollback SQL is one ALTER TABLE
re-adding the column (NOT NULL only when a default can fill the existing rows); the rest is read
from the live catalog when the rollback plan is built, just before the migration runs, and
becomes steps that run after the column's values are restored.
"""

from __future__ import annotations

import dataclasses
import re

import psycopg
from psycopg import sql

from migrations_app.engines.catalog import query
from migrations_app.engines.statements import (AnalysisEnv, DestroyedData, MigrationOperation, SqlSyntaxError,
                                               StatementFacts, constraints_added, describe, split_script)


@dataclasses.dataclass
class RollbackStep:
    operation_index: int
    kind: str               # "rollback_sql" | "restore_rows" | "restore_column" | "restore_structure" | "drop_backup"
    sql: str
    description: str
    transactional: bool = True


_INDEX_PREFIX = re.compile(r"^CREATE (UNIQUE )?INDEX ")


def column_structure_steps(conn: psycopg.Connection, index: int, op: MigrationOperation, fact: StatementFacts,
                           *, values_restored: bool) -> list:
    steps = []
    added = _constraints_added_by(op.rollback_sql)
    for d in fact.destroyed:
        if not _is_drop_column(d):
            continue
        row = conn.execute(query("exec_column_structure"),
                           {"schema": d.schema, "table": d.table, "column": d.column}).fetchone()
        if row is None:
            continue
        not_null, index_definitions, constraints = row
        table = sql.Identifier(d.schema, d.table)
        what = f"{d.schema}.{d.table}.{d.column}"
        if not_null and values_restored:
            steps.append(RollbackStep(index, "restore_structure", sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL")
                                      .format(table, sql.Identifier(d.column)).as_string(None),
                                      f"restore NOT NULL on {what}"))
        for con in constraints or []:
            if con["name"] in added:
                continue
            steps.append(RollbackStep(index, "restore_structure", sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}")
                                      .format(table, sql.Identifier(con["name"]), sql.SQL(con["definition"]))
                                      .as_string(None), f"restore constraint {con['name']} on {what}"))
        for definition in index_definitions or []:
            # pg_get_indexdef output always starts "CREATE [UNIQUE] INDEX name ON ..."
            steps.append(RollbackStep(index, "restore_structure",
                                      _INDEX_PREFIX.sub(lambda m: f"CREATE {m.group(1) or ''}INDEX IF NOT EXISTS ",
                                                        definition),
                                      f"restore an index on {what}"))
    return steps


def _is_drop_column(d: DestroyedData) -> bool:
    return d.kind == "column" and d.reason.upper().startswith("DROP COLUMN")


def _constraints_added_by(rollback_sql: str | None) -> set[str]:
    if not rollback_sql or not rollback_sql.strip():
        return set()
    try:
        raws = split_script(rollback_sql)
    except SqlSyntaxError:
        return set()
    return {name for raw in raws for name in constraints_added(describe(raw, AnalysisEnv()))}
