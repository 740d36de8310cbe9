"""transaction-nesting: BEGIN inside BEGIN, COMMIT without BEGIN, or a BEGIN never committed."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="transaction-nesting",
    severity="warning",
    problem="A nested BEGIN only warns and the first COMMIT ends the outer transaction, so statements meant "
            "to be atomic are not; a BEGIN without COMMIT leaves the migration uncommitted; the plan executor "
            "already wraps transactional statements in one transaction.",
    solution="Remove explicit BEGIN/COMMIT from the migration, or keep exactly one balanced pair.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind == "BEGIN" and ctx.in_transaction_before(stmt.index):
        yield RULE.finding(stmt, "BEGIN inside an open transaction block")
    elif stmt.kind in ("COMMIT", "ROLLBACK") and not ctx.in_transaction_before(stmt.index):
        yield RULE.finding(stmt, f"{stmt.kind} without an open transaction block")
    elif stmt.kind == "BEGIN" and stmt.index == ctx.last_begin_without_commit():
        yield RULE.finding(stmt, "BEGIN is never committed", "COMMIT;")
