"""ban-truncate-cascade: TRUNCATE ... CASCADE empties every table that references the named ones."""

from migrations_app.engines.lint.base import Rule, ident

RULE = Rule(
    id="ban-truncate-cascade",
    severity="error",
    problem="TRUNCATE CASCADE also truncates every table with a foreign key to the named tables, "
            "recursively: far more data than the statement names can disappear.",
    solution="Truncate the referencing tables explicitly, by name, after checking what they are.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "TRUNCATE" or not stmt.details.get("cascade"):
        return
    names = ", ".join(ident(o.schema, o.table) for o in stmt.objects)
    referencing = []
    if ctx.facts is not None:
        for obj in stmt.objects:
            referencing += [f"{fk['schema_name']}.{fk['table_name']}"
                            for fk in ctx.facts.fks_referencing(obj.schema or ctx.default_schema, obj.table)]
    extra = f"; it would also empty {', '.join(sorted(set(referencing)))}" if referencing else ""
    yield RULE.finding(stmt, f"TRUNCATE {names} CASCADE{extra}", f"TRUNCATE {names};", referencing=referencing)
