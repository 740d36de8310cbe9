"""What a statement destroys, named precisely enough to preserve it first (``DestroyedData``).

Derived from the same ``StatementInfo`` the review shows, so review, rollback planning,
rehearsal and execution agree on what is lost:

- DROP TABLE / MATERIALIZED VIEW, TRUNCATE: every row of the table ("table")
- DELETE: the rows its WHERE selects ("rows"); UPDATE: the old values of the rows it changes
  ("updated_rows", with the columns it sets)
- DROP COLUMN, a type change that may narrow or round: the column's values ("column")
- DROP SCHEMA, DROP ... CASCADE, DROP FOREIGN TABLE / SEQUENCE: "objects" — not preservable
  by copying rows, so a rollback cannot restore them
"""

from __future__ import annotations

import dataclasses
import json

import pglast
from pglast import parser as pg_parser

from migrations_app.engines.statements.model import StatementInfo
from migrations_app.engines.statements.selection import RowSelection, row_selection

# Types that hold every value of the usual source types: changing *to* them loses nothing.
LOSSLESS_TARGET_TYPES = {"text", "varchar", "numeric", "int8", "float8", "jsonb"}


@dataclasses.dataclass
class DestroyedData:
    kind: str            # "table" | "rows" | "updated_rows" | "column" | "objects"
    schema: str
    table: str
    column: str | None = None
    where_sql: str | None = None   # DELETE/UPDATE ... WHERE, deparsed by pglast from the statement itself
    reason: str = ""
    columns: list[str] = dataclasses.field(default_factory=list)   # UPDATE: the columns it sets
    # DELETE/UPDATE with a WHERE: what decides which rows it picks (a copy taken beforehand holds
    # the same rows only if they are picked the same way twice; ``engines.rollback.selection``)
    selection: RowSelection | None = None


def lossless_type_change(new_type: dict) -> bool:
    """A change *to* ``new_type`` (``type_name()`` dict) keeps every value of the usual source types."""
    if not new_type or new_type.get("array"):
        return False
    name = new_type.get("name")
    if name in ("varchar", "numeric") and new_type.get("mods"):
        return False
    return name in LOSSLESS_TARGET_TYPES


def destroyed_data(info: StatementInfo, default_schema: str) -> list[DestroyedData]:
    if info.inner or info.details.get("dynamic_sql"):
        out = [d for inner in info.inner for d in destroyed_data(inner, default_schema)]
        if info.details.get("dynamic_sql"):
            out.append(DestroyedData("objects", info.schema or default_schema, info.table or "",
                                     reason="EXECUTE of SQL built at run time: what it changes is unknown"))
        return out
    kind = info.kind
    schema = info.schema or default_schema
    if kind in ("DROP_TABLE", "DROP_MATERIALIZED_VIEW"):
        out = [DestroyedData("table", o.schema or default_schema, o.table, reason=f"{kind.replace('_', ' ')} removes the rows")
               for o in info.objects if o.relkind in ("table", "view")]
        if info.details.get("cascade"):
            out.append(DestroyedData("objects", schema, info.table or "", reason="CASCADE drops dependent objects too"))
        return out
    if kind == "TRUNCATE":
        out = [DestroyedData("table", o.schema or default_schema, o.table, reason="TRUNCATE removes the rows")
               for o in info.objects]
        if info.details.get("cascade"):
            out.append(DestroyedData("objects", schema, info.table or "",
                                     reason="TRUNCATE CASCADE also empties every table that references these"))
        return out
    if kind in ("DELETE", "UPDATE"):
        where, simple = _where(info)
        selection = _selection(info) if simple and where is not None else None
        if kind == "DELETE":
            return [DestroyedData("rows", schema, info.table or "", where_sql=where if simple else None,
                                  selection=selection,
                                  reason="DELETE removes the rows" + ("" if simple else " (USING/WITH/alias)"))]
        columns = list(info.objects[0].columns) if info.objects else []
        return [DestroyedData("updated_rows", schema, info.table or "", where_sql=where if simple else None,
                              columns=columns, selection=selection,
                              reason="UPDATE overwrites the old values" + ("" if simple else " (FROM/WITH/alias)"))]
    if info.node_type == "AlterTableStmt":
        out = []
        for sub, column, new_type in info.details.get("column_changes", []):
            if sub == "AT_DropColumn":
                out.append(DestroyedData("column", schema, info.table or "", column,
                                         reason="DROP COLUMN removes the values"))
            elif sub == "AT_AlterColumnType" and not info.details.get("type_change_lossless"):
                out.append(DestroyedData("column", schema, info.table or "", column,
                                         reason="a type change may narrow or round the values"))
        if info.details.get("cascade"):
            out.append(DestroyedData("objects", schema, info.table or "", reason="CASCADE drops dependent objects too"))
        return out
    if info.destroys_data:
        return [DestroyedData("objects", schema, info.table or "",
                              reason=f"{kind.replace('_', ' ')} removes objects and their contents")]
    return []


def _where(info: StatementInfo) -> tuple[str | None, bool]:
    """The WHERE clause as SQL text, and whether the affected rows can be selected beforehand
    from the table alone (no USING/FROM, WITH or alias)."""
    from pglast.stream import RawStream  # the printers: only for DELETE/UPDATE backups, not for every analysis

    stmt = pglast.parse_sql(info.sql)[0].stmt
    simple = not getattr(stmt, "usingClause", None) and not getattr(stmt, "fromClause", None) \
        and not stmt.withClause and not stmt.relation.alias
    where = RawStream()(stmt.whereClause) if stmt.whereClause is not None else None
    return where, simple


def _selection(info: StatementInfo) -> RowSelection:
    # parsed from the statement's own text: the tree's locations then point into it (LIMIT and
    # FETCH FIRST parse alike, the text tells which was written)
    node = json.loads(pg_parser.parse_sql_json(info.sql))["stmts"][0]["stmt"]
    body = node.get("DeleteStmt") or node.get("UpdateStmt") or {}
    return row_selection(body.get("whereClause"), info.sql)


def constraints_added(info: StatementInfo) -> set[str]:
    """Names of the constraints an ALTER TABLE adds (ADD CONSTRAINT, or constraints of ADD COLUMN)."""
    names = set()
    for raw_cmd in (info.node.get("AlterTableStmt") or {}).get("cmds", []):
        cmd = raw_cmd.get("AlterTableCmd", {})
        definition = cmd.get("def") or {}
        if cmd.get("subtype") == "AT_AddConstraint":
            name = (definition.get("Constraint") or {}).get("conname")
            if name:
                names.add(name)
        elif cmd.get("subtype") == "AT_AddColumn":
            for constraint in (definition.get("ColumnDef") or {}).get("constraints") or []:
                name = (constraint.get("Constraint") or {}).get("conname")
                if name:
                    names.add(name)
    return names
