"""changing-column-type: ALTER COLUMN TYPE rewrites the table and its indexes under ACCESS EXCLUSIVE
(except binary-coercible changes such as varchar(n) -> text or a longer varchar)."""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="changing-column-type",
    severity="warning",
    kinds=frozenset({"ALTER_TYPE"}),  # the check's first test: no finding for any other kind
    problem="Changing a column's type rewrites every row and rebuilds every index while holding ACCESS "
            "EXCLUSIVE, and breaks code that expects the old type.",
    solution="Expand and contract: add a new column of the new type, keep it in sync with a trigger, "
             "backfill in batches, switch readers, then drop the old column.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "ALTER_TYPE" or not stmt.rewrites_table or ctx.is_new_table(stmt):
        return
    t, c = table_ref(stmt), stmt.column
    new = ident(f"{c}_new")
    new_type = stmt.details.get("new_type", {}).get("sql", "<new type>")
    safe = (f"ALTER TABLE {t} ADD COLUMN {new} {new_type};\n"
            f"-- a trigger keeps {new} in sync with {ident(c)} for new writes, then backfill in batches:\n"
            f"UPDATE {t} SET {new} = {ident(c)}::{new_type} WHERE ctid IN "
            f"(SELECT ctid FROM {t} WHERE {new} IS NULL AND {ident(c)} IS NOT NULL LIMIT 10000);\n"
            f"-- switch readers to {new}, then:\n"
            f"ALTER TABLE {t} DROP COLUMN {ident(c)};\nALTER TABLE {t} RENAME COLUMN {new} TO {ident(c)};")
    yield RULE.finding(stmt, f"type change of {stmt.table}.{c} to {new_type} rewrites the table", safe)
