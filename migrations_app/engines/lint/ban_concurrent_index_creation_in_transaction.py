"""ban-concurrent-index-creation-in-transaction: CONCURRENTLY cannot run inside a transaction block."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="ban-concurrent-index-creation-in-transaction",
    severity="error",
    problem="CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM and similar statements fail with "
            "'cannot run inside a transaction block' between BEGIN and COMMIT.",
    solution="Move the statement out of the BEGIN ... COMMIT block and run it on its own.",
)


@RULE.check
def check(stmt, ctx):
    if not stmt.transactional and ctx.in_transaction[stmt.index]:
        yield RULE.finding(stmt, f"{stmt.kind.replace('_', ' ')} cannot run inside the transaction block opened "
                                 "earlier in the script", f"COMMIT;\n{stmt.sql};\nBEGIN;")
