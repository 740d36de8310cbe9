"""adding-foreign-key-constraint: a FOREIGN KEY added without NOT VALID scans the table while
holding SHARE ROW EXCLUSIVE on both tables (writes blocked on both)."""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="adding-foreign-key-constraint",
    severity="warning",
    kinds=frozenset({"ADD_CONSTRAINT", "ADD_COLUMN"}),  # the check's first test: no finding for any other kind
    problem="Adding a foreign key validates every existing row while blocking writes to both the table and "
            "the referenced table.",
    solution="Add the constraint NOT VALID (instant), then VALIDATE CONSTRAINT in a separate transaction: "
             "validation takes only SHARE UPDATE EXCLUSIVE and lets reads and writes continue.",
)


@RULE.check
def check(stmt, ctx):
    fk = stmt.details.get("foreign_key")
    if not fk or stmt.kind not in ("ADD_CONSTRAINT", "ADD_COLUMN") or stmt.details.get("not_valid") or ctx.is_new_table(stmt):
        return
    name = stmt.details.get("constraint") or f"{stmt.table}_{'_'.join(fk['columns'])}_fkey"
    ref_schema, ref_table = fk["references"]
    ref_cols = ", ".join(ident(c) for c in fk.get("ref_columns") or [])
    safe = (f"ALTER TABLE {table_ref(stmt)} ADD CONSTRAINT {ident(name)} FOREIGN KEY "
            f"({', '.join(ident(c) for c in fk['columns'])}) REFERENCES {ident(ref_schema, ref_table)}"
            f"{' (' + ref_cols + ')' if ref_cols else ''} NOT VALID;\n"
            f"ALTER TABLE {table_ref(stmt)} VALIDATE CONSTRAINT {ident(name)};")
    yield RULE.finding(stmt, f"foreign key on {stmt.table}({', '.join(fk['columns'])}) is validated while "
                             f"writes to {stmt.table} and {ref_table} are blocked", safe)
