"""prefer-robust-stmts: a migration that stops half way should be re-runnable."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="prefer-robust-stmts",
    severity="info",
    problem="Statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY ...) are not rolled back "
            "on failure; re-running the migration then fails on the objects already created or dropped.",
    solution="Use IF NOT EXISTS / IF EXISTS on statements that run outside a transaction.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.transactional or ctx.in_transaction[stmt.index]:
        return
    if stmt.kind == "CREATE_INDEX" and not stmt.details.get("if_not_exists"):
        yield RULE.finding(stmt, "CREATE INDEX CONCURRENTLY without IF NOT EXISTS is not re-runnable",
                           stmt.sql.replace("CONCURRENTLY", "CONCURRENTLY IF NOT EXISTS", 1) + ";")
    elif stmt.kind == "DROP_INDEX" and not stmt.details.get("if_exists"):
        yield RULE.finding(stmt, "DROP INDEX CONCURRENTLY without IF EXISTS is not re-runnable")
