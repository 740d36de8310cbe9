"""ban-drop-database: a migration must never drop a database."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="ban-drop-database",
    severity="error",
    kinds=frozenset({"DROP_DATABASE"}),  # the check's first test: no finding for any other kind
    problem="DROP DATABASE destroys everything in it and cannot run inside a transaction.",
    solution="Drop databases by hand, never from a migration.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind == "DROP_DATABASE":
        yield RULE.finding(stmt, f"DROP DATABASE {stmt.details.get('database')} in a migration")
