"""require-concurrent-reindex: REINDEX without CONCURRENTLY blocks the table's writes (and reads of the index)."""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="require-concurrent-reindex",
    severity="warning",
    problem="REINDEX without CONCURRENTLY locks the table against writes (SHARE) and the index against reads "
            "(ACCESS EXCLUSIVE) for the whole rebuild.",
    solution="REINDEX ... CONCURRENTLY (PostgreSQL 12+) rebuilds next to the old index and swaps them; it runs "
             "outside a transaction block.",
)


def _concurrent(stmt) -> bool:
    body = stmt.node.get("ReindexStmt", {})
    return any(next(iter(p.values())).get("defname") == "concurrently" for p in body.get("params", []) or [])


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "REINDEX" or _concurrent(stmt) or (stmt.table and ctx.is_new_table(stmt)):
        return
    body = stmt.node.get("ReindexStmt", {})
    kind = (body.get("kind") or "REINDEX_OBJECT_TABLE").replace("REINDEX_OBJECT_", "")
    target = table_ref(stmt) if stmt.table else ident(body.get("name"))
    yield RULE.finding(stmt, f"REINDEX {kind} {target} without CONCURRENTLY",
                       f"REINDEX {kind} CONCURRENTLY {target};")
