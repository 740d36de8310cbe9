"""require-concurrent-index-deletion: DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table."""

from migrations_app.engines.lint.base import Rule, ident

RULE = Rule(
    id="require-concurrent-index-deletion",
    severity="warning",
    kinds=frozenset({"DROP_INDEX"}),  # the check's first test: no finding for any other kind
    problem="DROP INDEX takes ACCESS EXCLUSIVE on the index's table: it waits for every running query on "
            "the table, and every later query waits for it.",
    solution="Use DROP INDEX CONCURRENTLY (outside a transaction block).",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "DROP_INDEX" or not stmt.transactional:
        return
    names = ", ".join(ident(o.schema, o.table) for o in stmt.objects)
    yield RULE.finding(stmt, f"DROP INDEX {names} blocks the table", f"DROP INDEX CONCURRENTLY IF EXISTS {names};")
