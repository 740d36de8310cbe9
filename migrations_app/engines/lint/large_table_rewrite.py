"""large-table-rewrite: a rewrite or full scan of a large table under a blocking lock, with its size
and projected duration (from pg_class / pg_stat_user_tables; thresholds are configurable)."""

from migrations_app.engines.lint.base import Rule
from migrations_app.engines.risk import format_seconds

RULE = Rule(
    id="large-table-rewrite",
    severity="error",
    needs_catalog=True,
    problem="The statement rewrites or scans a large table while holding a lock that blocks traffic; the "
            "outage lasts as long as the rewrite.",
    solution="Use the online alternative of the statement (NOT VALID + VALIDATE, CONCURRENTLY, expand/contract "
             "with batched backfill), or schedule a maintenance window sized to the projected duration.",
)


def projected_seconds(stmt, table, thresholds) -> float:
    if stmt.rewrites_table:
        return table.total_bytes / thresholds.rewrite_bytes_per_second
    return table.heap_bytes / thresholds.scan_bytes_per_second


@RULE.check
def check(stmt, ctx):
    if not (stmt.rewrites_table or stmt.scans_table) or stmt.kind in ("UPDATE", "DELETE", "INSERT"):
        return
    table = ctx.table_facts(stmt)
    if table is None or not ctx.facts.is_large(table):
        return
    seconds = projected_seconds(stmt, table, ctx.facts.thresholds)
    what, blocking = ("rewrites" if stmt.rewrites_table else "scans"), stmt.blocks_writes
    yield RULE.finding(
        stmt, f"{table.describe_size()}; {stmt.kind.replace('_', ' ')} {what} it under {stmt.lock_mode}, "
              f"{format_seconds(seconds)}" + ("" if blocking else " (the lock does not block reads or writes)"),
        severity="error" if blocking else "info",
        rows=table.rows, total_bytes=table.total_bytes, projected_seconds=round(seconds, 1), lock=stmt.lock_mode)
