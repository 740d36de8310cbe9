"""ban-drop-table: dropping a table destroys its data."""

from migrations_app.engines.lint.base import Rule, ident

RULE = Rule(
    id="ban-drop-table",
    severity="warning",
    kinds=frozenset({"DROP_TABLE"}),  # the check's first test: no finding for any other kind
    problem="DROP TABLE destroys the table's rows and, with CASCADE, every view and foreign key that "
            "depends on it.",
    solution="Rename the table aside (or move it to a backup schema) and drop it in a later release once "
             "nothing uses it.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "DROP_TABLE":
        return
    for obj in stmt.objects:
        safe = (f"CREATE SCHEMA IF NOT EXISTS dataflow_backup;\n"
                f"ALTER TABLE {ident(obj.schema, obj.table)} SET SCHEMA dataflow_backup;")
        cascade = " with CASCADE (dependents are dropped too)" if stmt.details.get("cascade") else ""
        yield RULE.finding(stmt, f"DROP TABLE {obj.table}{cascade} destroys data", safe)
