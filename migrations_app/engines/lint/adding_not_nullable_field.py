"""adding-not-nullable-field: SET NOT NULL scans the whole table under ACCESS EXCLUSIVE, unless a
valid ``CHECK (col IS NOT NULL)`` constraint already proves it (PostgreSQL 12+)."""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="adding-not-nullable-field",
    severity="warning",
    kinds=frozenset({"SET_NOT_NULL"}),  # the check's first test: no finding for any other kind
    problem="ALTER COLUMN ... SET NOT NULL reads every row while holding ACCESS EXCLUSIVE.",
    solution="Add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it (no blocking), then SET NOT NULL: "
             "PostgreSQL 12+ uses the valid constraint and skips the scan; finally drop the CHECK.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "SET_NOT_NULL" or ctx.is_new_table(stmt):
        return
    t, c = table_ref(stmt), ident(stmt.column)
    con = ident(f"{stmt.table}_{stmt.column}_not_null")
    safe = (f"ALTER TABLE {t} ADD CONSTRAINT {con} CHECK ({c} IS NOT NULL) NOT VALID;\n"
            f"ALTER TABLE {t} VALIDATE CONSTRAINT {con};\n"
            f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n"
            f"ALTER TABLE {t} DROP CONSTRAINT {con};")
    yield RULE.finding(stmt, f"SET NOT NULL on {stmt.table}.{stmt.column} scans the table under ACCESS EXCLUSIVE", safe)
