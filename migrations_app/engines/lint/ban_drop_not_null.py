"""ban-drop-not-null: dropping NOT NULL lets NULLs in that existing code may not expect."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="ban-drop-not-null",
    severity="info",
    problem="DROP NOT NULL is instant but not backward compatible: code that assumes the column is always "
            "set may break on the first NULL, and re-adding NOT NULL later needs a full scan.",
    solution="Make sure every reader handles NULL before dropping the constraint.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind == "DROP_NOT_NULL" or "AT_DropNotNull" in stmt.subcommands:
        yield RULE.finding(stmt, f"{stmt.table}.{stmt.column} may now hold NULL")
