"""A view's definition without some of its columns: what "recreate the dependent views without
the column" means in SQL, or why it cannot be done by removing select-list entries.

Reads catalog view definitions (``pg_get_viewdef``), never plan SQL. A view keeps its other
columns only when every use of a removed column is a plain entry of its select list; a use in
WHERE, a join, a grouping or an expression means the view cannot exist without the column, and
that is said instead of guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass

from pglast import ast, parse_sql
from pglast.stream import RawStream
from pglast.visitors import Visitor

from migrations_app.engines.statements.identifiers import ident


@dataclass
class ViewWithout:
    sql: str | None             # CREATE VIEW ... without the columns; None when it cannot exist without them
    removed_outputs: set[str]   # the view's own output columns that went (outer views lose them too)
    reason: str = ""            # why it cannot be recreated


class _ColumnUses(Visitor):
    def __init__(self, names: set[str]):
        super().__init__()
        self.names, self.found = names, 0

    def visit_ColumnRef(self, ancestors, node):
        last = node.fields[-1] if node.fields else None
        if isinstance(last, ast.String) and last.sval in self.names:
            self.found += 1


def _uses(node, names: set[str]) -> int:
    counter = _ColumnUses(names)
    counter(node)
    return counter.found


def view_without_columns(schema: str, name: str, definition: str, columns: set[str], *,
                         materialized: bool = False) -> ViewWithout:
    """``columns``: names the view reads that no longer exist (of the dropped column, or output
    columns that inner views lost)."""
    kind = "MATERIALIZED VIEW" if materialized else "VIEW"
    statement = parse_sql(f"SELECT 1 FROM ({definition.strip().rstrip(';')}) AS v")[0].stmt
    query = statement.fromClause[0].subquery
    if not isinstance(query, ast.SelectStmt) or query.larg is not None or not query.targetList:
        return ViewWithout(None, set(), "its query is a set operation (UNION ...) or has no select list")
    kept, removed = [], set()
    for target in query.targetList or ():
        value = target.val
        plain = isinstance(value, ast.ColumnRef) and isinstance(value.fields[-1], ast.String)
        if plain and value.fields[-1].sval in columns:
            removed.add(target.name or value.fields[-1].sval)
            continue
        kept.append(target)
    if not kept:
        return ViewWithout(None, removed, "every column it selects is removed")
    query.targetList = tuple(kept)
    if _uses(query, columns):
        return ViewWithout(None, removed, "it uses the column outside its select list (a filter, join, "
                                          "grouping or expression)")
    body = RawStream()(query)
    return ViewWithout(f"CREATE {kind} {ident(schema, name)} AS {body}", removed)


def trigger_without_column(definition: str, column: str) -> str | None:
    """``pg_get_triggerdef`` without ``column`` in its UPDATE OF list; None when the trigger
    cannot keep its meaning without it (its WHEN names it, or it was its only column)."""
    statement = parse_sql(definition)[0].stmt
    if statement.whenClause is not None and _uses(statement.whenClause, {column}):
        return None
    kept = [c for c in statement.columns or () if c.sval != column]
    if not kept:
        return None
    statement.columns = tuple(kept)
    return RawStream()(statement)
