"""require-timeout-settings: a DDL lock request without lock_timeout can stall all traffic."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="require-timeout-settings",
    severity="warning",
    problem="A statement waiting for a strong lock queues every later query on the table behind it; without "
            "lock_timeout it waits forever, and without statement_timeout a rewrite can run for hours.",
    solution="SET lock_timeout (a few seconds, retried) and statement_timeout at the start of the migration.",
)


@RULE.check
def check(stmt, ctx):
    if not stmt.blocks_writes or ctx.is_new_table(stmt):
        return
    missing = [name for name, ok in (("lock_timeout", ctx.lock_timeout_set[stmt.index]),
                                     ("statement_timeout", ctx.statement_timeout_set[stmt.index])) if not ok]
    # Report once per script: at the first statement that needs it.
    first = ctx.memo("first-strong-lock", lambda: next(
        (s.index for s in ctx.statements if s.blocks_writes and not ctx.is_new_table(s)), None))
    if missing and first == stmt.index:
        yield RULE.finding(stmt, f"{' and '.join(missing)} not set before the first {stmt.lock_mode} statement",
                           "SET lock_timeout = '5s';\nSET statement_timeout = '15min';")
