"""transaction-nesting (BEGIN inside BEGIN, COMMIT without BEGIN) and ban-uncommitted-transaction
(a BEGIN never committed)."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="transaction-nesting",
    severity="warning",
    problem="A nested BEGIN only warns and the first COMMIT ends the outer transaction, so statements meant "
            "to be atomic are not; the plan executor "
            "already wraps transactional statements in one transaction.",
    solution="Remove explicit BEGIN/COMMIT from the migration, or keep exactly one balanced pair.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind == "BEGIN" and ctx.in_transaction_before(stmt.index):
        yield RULE.finding(stmt, "BEGIN inside an open transaction block")
    elif stmt.kind in ("COMMIT", "ROLLBACK") and not ctx.in_transaction_before(stmt.index):
        yield RULE.finding(stmt, f"{stmt.kind} without an open transaction block")


UNCOMMITTED = Rule(
    id="ban-uncommitted-transaction",
    severity="warning",
    problem="A BEGIN without COMMIT leaves the migration's work uncommitted: a tool that runs the file and "
            "disconnects rolls everything back without an error.",
    solution="End every BEGIN with COMMIT, or remove explicit transaction control (the executor wraps "
             "transactional statements in one transaction).",
)


@UNCOMMITTED.check
def check_uncommitted(stmt, ctx):
    if stmt.kind == "BEGIN" and stmt.index == ctx.last_begin_without_commit():
        yield UNCOMMITTED.finding(stmt, "BEGIN is never committed", "COMMIT;")


RULES = [RULE, UNCOMMITTED]
