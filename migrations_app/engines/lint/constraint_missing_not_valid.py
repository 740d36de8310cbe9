"""constraint-missing-not-valid: a CHECK constraint added without NOT VALID scans the table under
ACCESS EXCLUSIVE."""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="constraint-missing-not-valid",
    severity="warning",
    kinds=frozenset({"ADD_CONSTRAINT"}),  # the check's first test: no finding for any other kind
    problem="Adding a CHECK constraint checks every row while holding ACCESS EXCLUSIVE: the table is "
            "unreadable and unwritable for the whole scan.",
    solution="Add it NOT VALID (new rows are checked at once), then VALIDATE CONSTRAINT separately under "
             "SHARE UPDATE EXCLUSIVE.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "ADD_CONSTRAINT" or stmt.details.get("constraint_type") != "CONSTR_CHECK":
        return
    if stmt.details.get("not_valid") or ctx.is_new_table(stmt):
        return
    name = ident(stmt.details.get("constraint") or f"{stmt.table}_check")
    safe = (f"ALTER TABLE {table_ref(stmt)} ADD CONSTRAINT {name} CHECK (<condition>) NOT VALID;\n"
            f"ALTER TABLE {table_ref(stmt)} VALIDATE CONSTRAINT {name};")
    yield RULE.finding(stmt, f"CHECK constraint on {stmt.table} is validated under ACCESS EXCLUSIVE", safe)
