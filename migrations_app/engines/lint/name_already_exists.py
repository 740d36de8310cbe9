"""name-already-exists: a CREATE INDEX, CREATE TABLE / VIEW / MATERIALIZED VIEW or ADD CONSTRAINT
whose name the target already uses: the statement fails when it runs (a rehearsal would find it;
the catalog says it at analysis time).

Tables, views, indexes and sequences share one namespace per schema (pg_class), and a PRIMARY
KEY / UNIQUE / EXCLUDE constraint creates an index of its own name there; constraint names are per
table. The names come from the catalog reads the analysis makes anyway: new tables and views are
among the relations ``risk_table_facts`` reads, index and constraint names are checked by one
batched query (``name_requests`` -> ``CatalogFacts.names_taken``) whatever their number. IF NOT
EXISTS (and CREATE OR REPLACE VIEW over a view) is left alone, and so is a name an earlier
statement of the plan drops or renames away."""

from __future__ import annotations

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="name-already-exists",
    severity="error",
    needs_catalog=True,
    problem="The name the statement gives is already taken in the target: the statement fails when it runs "
            "(and with it the migration's transaction).",
    solution="Choose a free name, or drop or rename the existing object first in the same plan; when the existing "
             "object is the one wanted, CREATE INDEX / CREATE TABLE ... IF NOT EXISTS skips it.",
)

RELKINDS = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view", "i": "index",
            "I": "partitioned index", "S": "sequence", "f": "foreign table", "c": "composite type"}
CONTYPES = {"p": "primary key", "u": "unique", "f": "foreign key", "c": "check", "x": "exclusion",
            "t": "constraint trigger", "n": "not null"}
INDEXED_CONSTRAINTS = {"CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_EXCLUSION"}


def _wanted(stmt, default_schema: str) -> list[tuple]:
    """(request, what the statement creates) for the names this statement gives that the batched
    query checks: ("relation", schema, "", name) and ("constraint", schema, table, name)."""
    body = next(iter(stmt.node.values()), {}) if stmt.node else {}
    schema = stmt.schema or default_schema
    out = []
    if stmt.kind == "CREATE_INDEX" and body.get("idxname") and not body.get("if_not_exists") and stmt.table:
        out.append((("relation", schema, "", body["idxname"]), "index"))
    elif "AT_AddConstraint" in stmt.subcommands or "AT_AddIndexConstraint" in stmt.subcommands:
        if body.get("objtype", "OBJECT_TABLE") != "OBJECT_TABLE" or not stmt.table:
            return out
        for raw in body.get("cmds", []):
            cmd = raw.get("AlterTableCmd", {})
            if cmd.get("subtype") not in ("AT_AddConstraint", "AT_AddIndexConstraint"):
                continue
            con = (cmd.get("def") or {}).get("Constraint", {})
            name = con.get("conname")
            if not name:
                continue
            out.append((("constraint", schema, stmt.table, name), "constraint"))
            if con.get("contype") in INDEXED_CONSTRAINTS and con.get("indexname") != name:
                out.append((("relation", schema, "", name), "the constraint's index"))
    return out


def name_requests(statements, default_schema: str) -> list[tuple[str, str, str, str]]:
    """Every name the plan's new indexes and constraints take: one query checks them all."""
    return sorted({request for stmt in statements for request, _ in _wanted(stmt, default_schema)})


def _released(ctx) -> list[tuple[int, tuple]]:
    """(statement index, what it frees): names a statement of the plan drops or renames away, and
    the tables it drops (their indexes and constraints go with them)."""
    out = []
    for stmt in ctx.statements:
        schema = ctx.schema_of(stmt)
        if stmt.kind.startswith("DROP_"):
            for d in stmt.details.get("dropped", []):
                out.append((stmt.index, ("relation", d.get("schema") or schema, "", d.get("name"))))
                if stmt.kind == "DROP_TABLE":
                    out.append((stmt.index, ("table", d.get("schema") or schema, d.get("name"))))
        if stmt.kind.startswith("RENAME_") and stmt.details.get("old_name"):
            old = stmt.details["old_name"]
            out.append((stmt.index, ("constraint", schema, stmt.table, old) if stmt.kind == "RENAME_CONSTRAINT"
                        else ("relation", schema, "", old)))
        for name in stmt.details.get("dropped_constraints", []) or []:
            out += [(stmt.index, ("constraint", schema, stmt.table, name)), (stmt.index, ("relation", schema, "", name))]
    return out


def _freed_before(ctx, index: int, request: tuple, owner: str | None) -> bool:
    freed = {what for at, what in ctx.memo("name-already-exists:released", lambda: _released(ctx)) if at < index}
    table = ("table", request[1], request[2] if request[0] == "constraint" else owner)
    return request in freed or table in freed


def _a(what: str) -> str:
    return ("an " if what[0] in "aeiou" else "a ") + what


@RULE.check
def check(stmt, ctx):
    schema = ctx.schema_of(stmt)
    body = next(iter(stmt.node.values()), {}) if stmt.node else {}
    if stmt.kind in ("CREATE_TABLE", "CREATE_VIEW", "CREATE_TABLE_AS") and stmt.table:
        if body.get("if_not_exists") or ctx.is_new_table(stmt):
            return
        existing = ctx.facts.table(schema, stmt.table)
        if existing is None or (body.get("replace") and existing.relkind == "v"):
            return
        if _freed_before(ctx, stmt.index, ("relation", schema, "", stmt.table), None):
            return
        what = RELKINDS.get(existing.relkind, "relation")
        yield RULE.finding(stmt, f"{_a(what)} named {stmt.table} already exists in schema {schema}: "
                                 f"the statement will fail", None, name=stmt.table, schema=schema,
                           taken_by=what)
        return
    taken = ctx.facts.names_taken
    if taken is None:
        return
    for request, creates in _wanted(stmt, ctx.default_schema):
        found = taken.get(request)
        if found is None or _freed_before(ctx, stmt.index, request, found.get("owner_table")):
            continue
        kind, where, table, name = request
        if kind == "constraint":
            what = f"{CONTYPES.get(found['taken_by'], '')} constraint".strip()
            message = f"{_a(what)} named {name} already exists on table {where}.{table}: the statement will fail"
        else:
            what = RELKINDS.get(found["taken_by"], "relation")
            on = f" (on table {found['owner_table']})" if found.get("owner_table") else ""
            message = f"{_a(what)} named {name} already exists in schema {where}{on}: " + \
                ("the statement will fail" if creates == "index" else
                 f"{creates} takes the constraint's name there, the statement will fail")
        yield RULE.finding(stmt, message, None, name=name, schema=where, taken_by=what)
