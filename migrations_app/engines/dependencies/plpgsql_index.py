"""What each parsed statement of a routine body names, read once per body.

A body is matched against every relation and column a drop removes, on every analysis;
walking its parse trees for each of those lookups (relations, column references, INSERT and
UPDATE targets: several walks per statement) was most of the cost of a schema with many
routines. The facts below are taken in one walk when the body is parsed and cached with the
parse (its key is the body's text and signature, so they can never be stale), and ``names``
lets a lookup skip a body that cannot reach its table at all.
"""

from __future__ import annotations

from dataclasses import dataclass

_DML = ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt")
_MERGE_COMMANDS = {"CMD_INSERT": "INSERT", "CMD_UPDATE": "UPDATE", "CMD_DELETE": "DELETE"}


@dataclass(frozen=True)
class RelationName:
    """A relation a statement reads or writes: ``visible`` is the alias, or the name."""

    schema: str | None
    name: str
    visible: str | None
    location: int | None


@dataclass(frozen=True)
class ColumnName:
    """A column reference: its name parts (``complete``: no ``*`` or subscript among them)."""

    fields: tuple[str, ...]
    complete: bool
    location: int | None


@dataclass(frozen=True)
class WrittenColumns:
    """An INSERT or UPDATE target, and the columns named by its lists (not ColumnRefs)."""

    relation: RelationName
    is_insert: bool
    without_column_list: bool
    items: tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class TableWrite:
    """A write that fires a table's triggers: ``event`` is INSERT, UPDATE, DELETE or TRUNCATE;
    ``columns``: for an UPDATE, the columns it sets (None: not known, so any)."""

    event: str
    relation: RelationName
    columns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class StatementFacts:
    start: int
    length: int | None
    relations: tuple[RelationName, ...]
    columns: tuple[ColumnName, ...]
    writes: tuple[WrittenColumns, ...]
    table_writes: tuple[TableWrite, ...] = ()


def _relation(node: dict) -> RelationName:
    return RelationName(node.get("schemaname"), node.get("relname"),
                        (node.get("alias") or {}).get("aliasname") or node.get("relname"), node.get("location"))


def statement_facts(stmt: dict) -> StatementFacts:
    """One walk over a statement (a ``RawStmt`` as JSON), in the order the matcher reads it."""
    found: dict[str, list[dict]] = {"RangeVar": [], "ColumnRef": [], "TruncateStmt": [], **{kind: [] for kind in _DML}}
    stack = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in found and isinstance(value, dict):
                    found[key].append(value)
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    relations = [_relation(rv) for rv in found["RangeVar"]]
    # the target of INSERT/UPDATE/DELETE/MERGE is an untagged RangeVar under "relation"
    relations += [_relation(node["relation"]) for kind in _DML for node in found[kind]
                  if isinstance(node.get("relation"), dict) and "relname" in node["relation"]]
    columns = []
    for ref in found["ColumnRef"]:
        parts = ref.get("fields", [])
        names = tuple(part["String"]["sval"] for part in parts if "String" in part)
        columns.append(ColumnName(names, len(names) == len(parts), ref.get("location")))
    writes = []
    for kind in ("InsertStmt", "UpdateStmt"):
        for node in found[kind]:
            relation = node.get("relation")
            if not isinstance(relation, dict):
                continue
            conflict = node.get("onConflictClause") or {}
            items = node.get("cols", []) + node.get("targetList", []) + conflict.get("targetList", [])
            items += (conflict.get("infer") or {}).get("indexElems", [])
            named = []
            for item in items:
                res = item.get("ResTarget") or item.get("IndexElem") or {}
                if res.get("name"):
                    named.append((res["name"], res.get("location", relation.get("location"))))
            writes.append(WrittenColumns(_relation(relation), kind == "InsertStmt",
                                         kind == "InsertStmt" and not node.get("cols"), tuple(named)))
    return StatementFacts(stmt.get("stmt_location", 0), stmt.get("stmt_len"), tuple(relations), tuple(columns),
                          tuple(writes), _table_writes(found))


def _set_columns(items: list) -> tuple[str, ...]:
    return tuple((item.get("ResTarget") or {}).get("name") for item in items
                 if (item.get("ResTarget") or {}).get("name"))


def _table_writes(found: dict[str, list[dict]]) -> tuple[TableWrite, ...]:
    """Every write of the statement (data-modifying CTEs included) with the trigger event it fires."""
    out = []
    for kind, event in (("InsertStmt", "INSERT"), ("UpdateStmt", "UPDATE"), ("DeleteStmt", "DELETE"),
                        ("MergeStmt", None)):
        for node in found[kind]:
            relation = node.get("relation")
            if not isinstance(relation, dict) or "relname" not in relation:
                continue
            target = _relation(relation)
            if kind == "UpdateStmt":
                out.append(TableWrite("UPDATE", target, _set_columns(node.get("targetList", []))))
            elif kind == "MergeStmt":
                clauses = [c.get("MergeWhenClause") or {} for c in node.get("mergeWhenClauses", [])]
                for clause in clauses:
                    command = _MERGE_COMMANDS.get(clause.get("commandType"))
                    if command == "UPDATE":
                        out.append(TableWrite("UPDATE", target, _set_columns(clause.get("targetList", []))))
                    elif command:
                        out.append(TableWrite(command, target))
                if not clauses or any(_MERGE_COMMANDS.get(c.get("commandType")) is None
                                      and c.get("commandType") != "CMD_NOTHING" for c in clauses):
                    # a MERGE we cannot read clause by clause: every event, any column (fail closed)
                    out += [TableWrite(e, target) for e in ("INSERT", "UPDATE", "DELETE")]
            else:
                out.append(TableWrite(event, target))
                conflict = node.get("onConflictClause") or {}
                if kind == "InsertStmt" and conflict.get("action") == "ONCONFLICT_UPDATE":
                    out.append(TableWrite("UPDATE", target, _set_columns(conflict.get("targetList", []))))
    for node in found["TruncateStmt"]:
        out += [TableWrite("TRUNCATE", _relation(rv["RangeVar"])) for rv in node.get("relations", [])
                if isinstance(rv, dict) and "RangeVar" in rv]
    return tuple(out)


def reachable_names(statements, declarations) -> frozenset[str]:
    """Every relation name the parse of a body can connect to a table: the relations its
    statements use, the names its declarations are typed with, and the middle part of
    three-part column references (``schema.table.column``)."""
    names = {relation.name for facts in statements for relation in facts.relations}
    names |= {column.fields[-2] for facts in statements for column in facts.columns if len(column.fields) == 3}
    names |= {part for declaration in declarations for part in declaration.parts}
    return frozenset(names)
