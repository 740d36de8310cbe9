"""renaming-table: a rename breaks every client still using the old name."""

from migrations_app.engines.lint.base import Rule, ident

RULE = Rule(
    id="renaming-table",
    severity="warning",
    kinds=frozenset({"RENAME_TABLE"}),  # the check's first test: no finding for any other kind
    problem="Renaming a table is instant, but queries using the old name fail as soon as it commits.",
    solution="Rename, then create a view with the old name (simple views are updatable) until every client "
             "has moved, then drop the view.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "RENAME_TABLE" or ctx.is_new_table(stmt):
        return
    old, new = stmt.details.get("old_name"), stmt.details.get("new_name")
    safe = (f"BEGIN;\nALTER TABLE {ident(stmt.schema, old)} RENAME TO {ident(new)};\n"
            f"CREATE VIEW {ident(stmt.schema, old)} AS SELECT * FROM {ident(stmt.schema, new)};\nCOMMIT;")
    yield RULE.finding(stmt, f"table {old} renamed to {new}: clients using {old} break", safe)
