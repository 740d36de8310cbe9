"""ban-drop-column: dropping a column destroys its data and breaks code that still reads it."""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="ban-drop-column",
    severity="warning",
    kinds=frozenset({"DROP_COLUMN"}),  # the check's first test: no finding for any other kind
    problem="DROP COLUMN destroys the column's data (no rollback without a backup) and breaks every query, "
            "view or application release that still names it.",
    solution="Contract in steps: stop reading and writing the column in the application, deploy, copy the "
             "data aside, then drop it.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "DROP_COLUMN":
        return
    cols = stmt.objects[0].columns if stmt.objects else [stmt.column]
    backup = ident("dataflow_backup", f"{stmt.table}_{'_'.join(cols)}")
    key = "<primary key>"
    safe = (f"CREATE SCHEMA IF NOT EXISTS dataflow_backup;\n"
            f"CREATE TABLE {backup} AS SELECT {key}, {', '.join(ident(c) for c in cols)} FROM {table_ref(stmt)};\n"
            f"{stmt.sql};")
    yield RULE.finding(stmt, f"DROP COLUMN {', '.join(cols)} on {stmt.table} destroys data", safe)
