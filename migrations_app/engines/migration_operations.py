"""``MigrationOperation`` and the facts the executor needs about its SQL, read with pglast.

Two facts decide how a statement is executed and rolled back:

- *transactional*: PostgreSQL refuses some statements inside a transaction block
  (CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM, DETACH PARTITION CONCURRENTLY,
  CREATE/DROP DATABASE, ALTER SYSTEM, tablespaces). Those run alone in autocommit.
- *destroys data*: DROP COLUMN / TABLE, TRUNCATE, DELETE and a type change that may narrow;
  re-adding a column restores the structure, not the data.

``MigrationOperation.transactional`` / ``destroys_data`` set to a bool override the detection.
"""

from __future__ import annotations

import dataclasses

import pglast
from pglast import ast
from pglast.enums import AlterTableType, ObjectType
from pglast.stream import RawStream

# Types that hold every value of the usual source types: changing *to* them loses nothing.
_LOSSLESS_TARGET_TYPES = {"text", "varchar", "numeric", "int8", "float8", "jsonb", "bpchar_unbounded"}


class StatementParseError(ValueError):
    pass


@dataclasses.dataclass
class DestroyedData:
    """What a statement destroys, so that ``preserve_data`` knows what to copy first."""
    kind: str            # "table" | "rows" | "column"
    schema: str
    table: str
    column: str | None = None
    where_sql: str | None = None   # DELETE ... WHERE, deparsed by pglast from the statement itself
    reason: str = ""


@dataclasses.dataclass
class StatementFacts:
    kind: str
    transactional: bool
    destroys_data: bool
    destroyed: list[DestroyedData] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class MigrationOperation:
    type: str
    table_name: str
    sql: str
    rollback_sql: str | None = None
    schema: str = "public"
    column: str | None = None
    transactional: bool | None = None      # None: detect from the SQL
    destroys_data: bool | None = None      # None: detect from the SQL
    description: str = ""

    def facts(self) -> StatementFacts:
        facts = analyze_statement(self.sql, default_schema=self.schema)
        if self.transactional is not None:
            facts.transactional = self.transactional
        if self.destroys_data is not None:
            facts.destroys_data = self.destroys_data
            if not self.destroys_data:
                facts.destroyed = []
        return facts

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def split_script(sql_text: str) -> list[str]:
    """The statements of a script, each as written (pglast locations are byte offsets)."""
    raw = sql_text.encode()
    try:
        parsed = pglast.parse_sql(sql_text)
    except pglast.parser.ParseError as exc:
        raise StatementParseError(f"cannot parse SQL: {exc}") from None
    out = []
    for stmt in parsed:
        end = stmt.stmt_location + stmt.stmt_len if stmt.stmt_len else len(raw)
        text = raw[stmt.stmt_location:end].decode().strip()
        if text:
            out.append(text)
    return out


def operations_from_script(sql_text: str, *, schema: str = "public") -> list[MigrationOperation]:
    """One operation per statement (no rollback SQL): for scripts and the benchmark."""
    ops = []
    for text in split_script(sql_text):
        stmt = pglast.parse_sql(text)[0].stmt
        relation = getattr(stmt, "relation", None)
        ops.append(MigrationOperation(type=_kind(stmt), table_name=getattr(relation, "relname", "") or "",
                                      sql=text, schema=schema))
    return ops


def analyze_statement(sql_text: str, *, default_schema: str = "public") -> StatementFacts:
    try:
        parsed = pglast.parse_sql(sql_text)
    except pglast.parser.ParseError as exc:
        raise StatementParseError(f"cannot parse SQL: {exc}") from None
    if len(parsed) != 1:
        raise StatementParseError(f"an operation holds exactly one statement, found {len(parsed)}")
    stmt = parsed[0].stmt
    return StatementFacts(kind=_kind(stmt), transactional=_transactional(stmt),
                          destroys_data=bool(destroyed := _destroyed(stmt, default_schema)), destroyed=destroyed)


def _kind(stmt) -> str:
    name = type(stmt).__name__
    if isinstance(stmt, ast.AlterTableStmt) and stmt.cmds:
        return "ALTER_TABLE:" + ",".join(cmd.subtype.name.removeprefix("AT_") for cmd in stmt.cmds)
    if isinstance(stmt, ast.DropStmt):
        return "DROP_" + stmt.removeType.name.removeprefix("OBJECT_")
    return name.removesuffix("Stmt").upper()


def _transactional(stmt) -> bool:
    if isinstance(stmt, (ast.IndexStmt, ast.DropStmt)) and stmt.concurrent:
        return False
    if isinstance(stmt, ast.ReindexStmt):
        return not any(getattr(p, "defname", "") == "concurrently" for p in (stmt.params or ()))
    if isinstance(stmt, (ast.VacuumStmt, ast.CreatedbStmt, ast.DropdbStmt, ast.AlterSystemStmt,
                         ast.CreateTableSpaceStmt, ast.DropTableSpaceStmt)):
        return False
    if isinstance(stmt, ast.AlterTableStmt):
        for cmd in stmt.cmds or ():
            if cmd.subtype == AlterTableType.AT_DetachPartition and getattr(cmd.def_, "concurrent", False):
                return False
    # ALTER TYPE ... ADD VALUE runs in a transaction since PostgreSQL 12 (the value is only
    # usable after COMMIT), so it stays in the transaction.
    return True


def _relation(rangevar, default_schema: str) -> tuple[str, str]:
    return rangevar.schemaname or default_schema, rangevar.relname


def _destroyed(stmt, default_schema: str) -> list[DestroyedData]:
    out: list[DestroyedData] = []
    if isinstance(stmt, ast.DropStmt) and stmt.removeType in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_MATVIEW):
        for names in stmt.objects or ():
            parts = [n.sval for n in names]
            schema, table = (parts[-2] if len(parts) > 1 else default_schema), parts[-1]
            out.append(DestroyedData("table", schema, table, reason="DROP TABLE removes the rows"))
    elif isinstance(stmt, ast.TruncateStmt):
        for rel in stmt.relations or ():
            out.append(DestroyedData("table", *_relation(rel, default_schema), reason="TRUNCATE removes the rows"))
    elif isinstance(stmt, ast.DeleteStmt):
        schema, table = _relation(stmt.relation, default_schema)
        simple = not stmt.usingClause and not stmt.withClause and not stmt.relation.alias
        where = RawStream()(stmt.whereClause) if stmt.whereClause is not None else None
        out.append(DestroyedData("rows", schema, table, where_sql=where if simple else None,
                                 reason="DELETE removes the rows" + ("" if simple else " (USING/WITH/alias)")))
    elif isinstance(stmt, ast.AlterTableStmt):
        schema, table = _relation(stmt.relation, default_schema)
        for cmd in stmt.cmds or ():
            if cmd.subtype == AlterTableType.AT_DropColumn:
                out.append(DestroyedData("column", schema, table, cmd.name, reason="DROP COLUMN removes the values"))
            elif cmd.subtype == AlterTableType.AT_AlterColumnType and not _lossless_type(cmd.def_):
                out.append(DestroyedData("column", schema, table, cmd.name,
                                         reason="a type change may narrow or round the values"))
    return out


def _lossless_type(column_def) -> bool:
    type_name = getattr(column_def, "typeName", None)
    if type_name is None or type_name.arrayBounds:
        return False
    name = type_name.names[-1].sval
    if name in ("varchar", "numeric") and type_name.typmods:
        return False
    return name in _LOSSLESS_TARGET_TYPES
