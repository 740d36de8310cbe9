"""adding-field-with-default: a volatile default (or any default before PostgreSQL 11) rewrites the table.

PostgreSQL 11+ stores a non-volatile default (a constant, ``now()``, ``CURRENT_TIMESTAMP``)
in the catalog and rewrites nothing; a volatile one (``clock_timestamp()``, ``random()``,
``gen_random_uuid()``, serial/identity) is evaluated per row under ACCESS EXCLUSIVE.
"""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="adding-field-with-default",
    severity="error",
    kinds=frozenset({"ADD_COLUMN"}),  # the check's first test: no finding for any other kind
    problem="Adding a column with a volatile default rewrites the whole table and its indexes while holding "
            "ACCESS EXCLUSIVE: no reads or writes until it finishes.",
    solution="Add the column without a default (or with a constant one), set the default for new rows, "
             "then backfill existing rows in small batches.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "ADD_COLUMN" or not stmt.rewrites_table or ctx.is_new_table(stmt):
        return
    for col in stmt.details.get("added_columns", []):
        if col.get("rewrites"):
            yield _finding(stmt, col)


def _finding(stmt, col):
    name = ident(col["name"])
    safe = (f"ALTER TABLE {table_ref(stmt)} ADD COLUMN {name} {col['type']};\n"
            f"ALTER TABLE {table_ref(stmt)} ALTER COLUMN {name} SET DEFAULT <expression>;\n"
            f"-- then, repeated until no rows are left:\n"
            f"UPDATE {table_ref(stmt)} SET {name} = <expression> WHERE ctid IN "
            f"(SELECT ctid FROM {table_ref(stmt)} WHERE {name} IS NULL LIMIT 10000);")
    reason = "; ".join(col["notes"]) or "the default is evaluated for every row"
    return RULE.finding(stmt, f"ADD COLUMN {col['name']} rewrites {stmt.table}: {reason}", safe)
