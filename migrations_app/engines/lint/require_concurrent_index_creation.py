"""require-concurrent-index-creation: CREATE INDEX without CONCURRENTLY blocks writes for the whole build."""

import re

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="require-concurrent-index-creation",
    severity="warning",
    kinds=frozenset({"CREATE_INDEX"}),  # the check's first test: no finding for any other kind
    problem="CREATE INDEX takes a SHARE lock: inserts, updates and deletes wait until the index is built.",
    solution="Use CREATE INDEX CONCURRENTLY (outside a transaction block); check for an INVALID index "
             "if it fails and drop it before retrying.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "CREATE_INDEX" or stmt.details.get("concurrently") or ctx.is_new_table(stmt):
        return
    # The statement is already known to be CREATE [UNIQUE] INDEX: insert the keyword after INDEX.
    safe = re.sub(r"(?i)\bINDEX\b", "INDEX CONCURRENTLY", stmt.sql, count=1)
    yield RULE.finding(stmt, f"index on {stmt.table} is built while writes to it are blocked", safe + ";")
