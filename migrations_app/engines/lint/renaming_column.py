"""renaming-column: a rename breaks every client still using the old name."""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="renaming-column",
    severity="warning",
    kinds=frozenset({"RENAME_COLUMN"}),  # the check's first test: no finding for any other kind
    problem="Renaming a column is instant, but running application code that uses the old name fails the "
            "moment it commits.",
    solution="Expand and contract: add the new column, write both, backfill, move readers, drop the old one; "
             "or keep a view exposing the old name during the transition.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "RENAME_COLUMN" or ctx.is_new_table(stmt):
        return
    old, new = stmt.details.get("old_name"), stmt.details.get("new_name")
    safe = (f"ALTER TABLE {table_ref(stmt)} ADD COLUMN {ident(new)} <type>;\n"
            f"-- write both columns from the application (or a trigger), backfill {ident(new)} in batches,\n"
            f"-- move every reader to {ident(new)}, then:\n"
            f"ALTER TABLE {table_ref(stmt)} DROP COLUMN {ident(old)};")
    yield RULE.finding(stmt, f"{stmt.table}.{old} renamed to {new}: clients using {old} break", safe)
