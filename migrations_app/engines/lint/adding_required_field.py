"""adding-required-field: ADD COLUMN ... NOT NULL without a default fails on any non-empty table."""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="adding-required-field",
    severity="error",
    kinds=frozenset({"ADD_COLUMN"}),  # the check's first test: no finding for any other kind
    problem="A NOT NULL column without a default cannot be added to a table that has rows: existing rows "
            "would violate it, so the statement fails.",
    solution="Add the column with a non-volatile default (no rewrite on PostgreSQL 11+), or add it nullable, "
             "backfill, then set NOT NULL through a validated CHECK constraint.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "ADD_COLUMN" or ctx.is_new_table(stmt):
        return
    if not stmt.details.get("not_null") or stmt.details.get("has_default") or stmt.rewrites_table:
        return
    col = stmt.details.get("column_type", {})
    safe = f"ALTER TABLE {table_ref(stmt)} ADD COLUMN {ident(stmt.column)} {col.get('sql', '<type>')} DEFAULT <constant> NOT NULL;"
    yield RULE.finding(stmt, f"{stmt.table}.{stmt.column} is NOT NULL without a default", safe)
