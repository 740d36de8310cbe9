"""Whether a DELETE / UPDATE picks its rows the same way twice: its backup depends on it.

The backup copies the rows the WHERE selects just before the statement runs; the executor then
checks that the statement changed as many rows as were copied. A WHERE that can pick the same
NUMBER of DIFFERENT rows (``IN (SELECT id ... LIMIT 1000)``, ``ORDER BY random() LIMIT 5``,
``TABLESAMPLE``, ``random() < 0.5``, a volatile function of the user's) passes that check with a
copy of the wrong rows, and a rollback would restore the copy and call it verified. Such a WHERE
is not backed up: its operation is irreversible for data, with the reason naming what decides
the rows.

What the parse tree shows is in ``DestroyedData.selection`` (``statements.selection``); the
functions, operators and relations it names are looked up here in the target's catalog, in one
read for the whole plan (and a second one for the views among them, when there are any), by the
search path the executor sets (the operation's schema, then ``public``;
``pg_catalog`` first, as the server does). Anything that cannot be resolved counts as volatile.
"""

from __future__ import annotations

from migrations_app.engines.catalog import query
from migrations_app.engines.statements import SqlSyntaxError, split_script
from migrations_app.engines.statements.selection import RowSelection, query_picks

PICKING_KINDS = ("rows", "updated_rows")
WHY = "no copy taken beforehand can be known to hold the same rows"


def nondeterministic_selections(conn, operations, facts) -> dict[tuple[int, int], str]:
    """(operation index, position in its ``destroyed``) -> why the rows that DELETE / UPDATE
    picks cannot be copied beforehand, for each one whose WHERE may pick different rows each time."""
    items = [(index, n, d) for index, fact in enumerate(facts) if fact.destroys_data
             for n, d in enumerate(fact.destroyed) if d.kind in PICKING_KINDS and d.selection is not None]
    if not items:
        return {}
    paths = {index: search_path(operations[index].schema) for index, _, _ in items}
    functions, operators, relations, schemas = set(), set(), set(), {s for p in paths.values() for s in p}
    for _, _, d in items:
        functions |= {name for _, name, _ in d.selection.functions}
        operators |= {name for _, name in d.selection.operators}
        relations |= {name for _, name in d.selection.relations}
        schemas |= {schema for schema, *_ in d.selection.functions + d.selection.operators + d.selection.relations
                    if schema}
    catalog = _Catalog(conn.execute(query("exec_row_selection"), {
        "functions": sorted(functions), "operators": sorted(operators), "relations": sorted(relations),
        "schemas": sorted(schemas)}).fetchall())
    views = {catalog.resolve(schema, name, paths[index]) for index, _, d in items
             for schema, name in d.selection.relations} & set(catalog.view_oids)
    if views:   # a second read only when a WHERE reads a view
        catalog.add_views(conn.execute(query("exec_view_selection"),
                                       {"views": sorted(catalog.view_oids[v] for v in views)}).fetchall())
    defined = _defined_by_operations(operations, upto=max(index for index, _, _ in items))
    out = {}
    for index, n, d in items:
        earlier = {key: max(k for k in numbers if k < index) for key, numbers in defined.items()
                   if any(k < index for k in numbers)}
        clauses = _clauses(d.selection, paths[index], catalog, earlier)
        if clauses:
            out[(index, n)] = f"the WHERE {_and(clauses)} ({WHY})"
    return out


def search_path(schema: str | None) -> list[str]:
    """The executor's ``search_path`` (the plan's schema, then public) behind ``pg_catalog``."""
    return list(dict.fromkeys(["pg_catalog", schema or "public", "public"]))


class _Catalog:
    def __init__(self, rows):
        self.functions: dict[tuple[str, str], list[tuple[int, int, bool, str]]] = {}
        self.operators: dict[tuple[str, str], list[str]] = {}
        self.relations: dict[tuple[str, str], str] = {}
        self.view_oids: dict[tuple[str, str], int] = {}
        # (schema, name) of a view the WHERE reads -> (name of a view it reads, None for itself;
        # definition; volatile functions called)
        self.views: dict[tuple[str, str], list[tuple[str | None, str, list[str]]]] = {}
        for kind, schema, name, nargs, ndefaults, variadic, detail, relid in rows:
            key = (schema, name)
            if kind == "function":
                self.functions.setdefault(key, []).append((nargs, ndefaults, variadic, detail))
            elif kind == "operator":
                self.operators.setdefault(key, []).append(detail)
            elif kind == "relation":
                self.relations[key] = detail
                if detail == "v":
                    self.view_oids[key] = relid

    def resolve(self, schema: str | None, name: str, path: list[str]) -> tuple[str, str] | None:
        """The relation an unqualified name means on ``path`` (the first schema that has it)."""
        found = next((s for s in ([schema] if schema else path) if (s, name) in self.relations), None)
        return (found, name) if found is not None else None

    def add_views(self, rows) -> None:
        keys = {oid: key for key, oid in self.view_oids.items()}
        for root, view, definition, volatile_calls in rows:
            self.views.setdefault(keys[root], []).append((view, definition or "", list(volatile_calls or [])))


def _look_up(kind: str, uses: str, schema: str | None, name: str, path: list[str], table: dict,
             earlier: dict) -> tuple[list, str]:
    """The catalog entries of a function or operator by the search path, or why it is taken as
    volatile: an earlier operation of the plan (re)defines it, or it cannot be found."""
    if (kind, name) in earlier:
        return [], (f"{uses}, which operation {earlier[(kind, name)] + 1} of this plan (re)defines: its "
                    "volatility when the statement runs is not known beforehand")
    searched = [schema] if schema else path
    found = [entry for s in searched for entry in table.get((s, name), [])]
    if not found:
        return [], f"{uses}, which cannot be found (searched {', '.join(searched)}): taken as volatile"
    return found, ""


def _clauses(selection: RowSelection, path: list[str], catalog: _Catalog, earlier: dict) -> list[str]:
    clauses = []
    if selection.picks:
        clauses.append(f"picks rows with {_and(selection.picks)}")
    volatile, unknown = [], []
    for schema, name, nargs in selection.functions:
        shown = f"{schema}.{name}()" if schema else f"{name}()"
        overloads, why = _look_up("function", f"calls {shown}", schema, name, path, catalog.functions, earlier)
        if why:
            unknown.append(why)
            continue
        fitting = [o for o in overloads if o[0] - o[1] <= nargs <= o[0] or (o[2] and nargs >= o[0] - 1)]
        if any(o[3] == "v" for o in fitting or overloads):
            volatile.append(shown)
    if volatile:
        clauses.append(f"calls {_and(volatile)}, "
                       + ("a volatile function" if len(volatile) == 1 else "volatile functions"))
    clauses += unknown
    for schema, name in selection.operators:
        shown = f"OPERATOR({schema}.{name})" if schema else name
        found, why = _look_up("operator", f"uses the operator {shown}", schema, name, path, catalog.operators, earlier)
        if why:
            clauses.append(why)
        elif "v" in found:
            clauses.append(f"uses the operator {shown}, whose function is volatile")
    for schema, name in selection.relations:
        shown = f"{schema}.{name}" if schema else name
        if ("relation", name) in earlier:
            clauses.append(f"reads {shown}, which operation {earlier[('relation', name)] + 1} of this plan (re)defines "
                           "as a view: what it picks when the statement runs is not known beforehand")
            continue
        key = catalog.resolve(schema, name, path)
        if key is None or catalog.relations[key] != "v":
            continue   # a table, or a name the WITH of the subquery defines
        for view, definition, volatile_calls in catalog.views.get(key, []):
            what = []
            picks = query_picks(definition)
            if picks:
                what.append(f"picks rows with {_and(picks)}")
            if volatile_calls:
                what.append(f"calls {_and(volatile_calls)}, "
                            + ("a volatile function" if len(volatile_calls) == 1 else "volatile functions"))
            if what:
                through = f" through view {view}" if view else ""   # None: the view itself
                clauses.append(f"reads view {shown}, which{through} {_and(what)}")
    return clauses


def _defined_by_operations(operations, upto: int) -> dict[tuple[str, str], list[int]]:
    """(kind, name) -> the operations before ``upto`` that create, replace, alter or rename a
    function, operator or view of that name (checked by name only: a near miss counts)."""
    out: dict[tuple[str, str], list[int]] = {}
    for index, op in enumerate(operations[:upto]):
        try:
            raws = split_script(op.sql)
        except SqlSyntaxError:
            continue
        for raw in raws:
            for kind, name in _definitions(raw.node):
                if name:
                    out.setdefault((kind, name), []).append(index)
    return out


def _definitions(node: dict):
    kind, body = next(iter(node.items()), (None, {}))
    if kind == "CreateFunctionStmt":
        yield "function", _last(body.get("funcname"))
    elif kind == "AlterFunctionStmt":
        yield "function", _last((body.get("func") or {}).get("objname"))
    elif kind == "ViewStmt":
        yield "relation", (body.get("view") or {}).get("relname")
    elif kind == "DefineStmt" and body.get("kind") == "OBJECT_OPERATOR":
        yield "operator", _last(body.get("defnames"))
    elif kind == "AlterOperatorStmt":
        yield "operator", _last((body.get("opername") or {}).get("objname"))
    elif kind == "RenameStmt" and body.get("renameType") in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE"):
        yield "function", body.get("newname")
    elif kind == "RenameStmt" and body.get("renameType") == "OBJECT_VIEW":
        yield "relation", body.get("newname")


def _last(items) -> str | None:
    names = [i["String"]["sval"] for i in items or [] if "String" in i]
    return names[-1] if names else None


def _and(items: list[str]) -> str:
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
