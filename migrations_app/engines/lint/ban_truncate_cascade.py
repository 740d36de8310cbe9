"""ban-truncate-cascade: TRUNCATE ... CASCADE empties every table that references the named ones."""

from migrations_app.engines.lint.base import Rule, ident

RULE = Rule(
    id="ban-truncate-cascade",
    severity="error",
    kinds=frozenset({"TRUNCATE"}),  # the check's first test: no finding for any other kind
    problem="TRUNCATE CASCADE also truncates every table with a foreign key to the named tables, "
            "recursively: far more data than the statement names can disappear.",
    solution="Truncate the referencing tables explicitly, by name, after checking what they are.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "TRUNCATE" or not stmt.details.get("cascade"):
        return
    names = ", ".join(ident(o.schema, o.table) for o in stmt.objects)
    named = {(o.schema or ctx.default_schema, o.table) for o in stmt.objects}
    # CASCADE follows foreign keys recursively (orders <- invoices <- payments): so does the list
    seen, todo = set(named), list(named)
    while ctx.facts is not None and todo:
        schema, table = todo.pop()
        for fk in ctx.facts.fks_referencing(schema, table):
            key = (fk["schema_name"], fk["table_name"])
            if key not in seen:
                seen.add(key)
                todo.append(key)
    others = sorted(seen - named)
    referencing = [f"{schema}.{table}" for schema, table in others]
    extra = f"; it would also empty {', '.join(referencing)}" if referencing else ""
    # without CASCADE, TRUNCATE refuses a table others reference unless they are truncated with it
    explicit = ", ".join([names, *(ident(schema, table) for schema, table in others)])
    yield RULE.finding(stmt, f"TRUNCATE {names} CASCADE{extra}", f"TRUNCATE {explicit};", referencing=referencing)
