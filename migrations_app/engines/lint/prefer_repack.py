"""prefer-repack (opt-in): VACUUM FULL and CLUSTER rewrite the table under ACCESS EXCLUSIVE."""

from migrations_app.engines.lint.base import Rule, table_ref

RULE = Rule(
    id="prefer-repack",
    severity="warning",
    kinds=frozenset({"VACUUM", "CLUSTER"}),  # the check's first test: no finding for any other kind
    enabled_by_default=False,
    problem="VACUUM FULL and CLUSTER rewrite the whole table and its indexes while holding ACCESS EXCLUSIVE: "
            "no read or write for the whole copy. (The statement policy's full-table-rewrite finding already "
            "raises such a plan to MEDIUM; this rule is the Squawk-compatible advice.)",
    solution="Use pg_repack (or pg_squeeze), which copies the table online and swaps it in with a short lock.",
)


@RULE.check
def check(stmt, ctx):
    full = stmt.kind == "VACUUM" and stmt.rewrites_table
    if not (full or stmt.kind == "CLUSTER"):
        return
    what = table_ref(stmt) if stmt.table else "every table"
    yield RULE.finding(stmt, f"{stmt.kind}{' FULL' if full else ''} rewrites {what} under ACCESS EXCLUSIVE",
                       f"-- pg_repack --table={what}" + (" --order-by=<index columns>" if stmt.kind == "CLUSTER" else ""))
