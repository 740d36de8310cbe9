"""disallowed-unique-constraint: ADD CONSTRAINT ... UNIQUE builds its index under ACCESS EXCLUSIVE."""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="disallowed-unique-constraint",
    severity="warning",
    problem="Adding a UNIQUE constraint builds a unique index while holding ACCESS EXCLUSIVE: the table is "
            "blocked for reads and writes for the whole build.",
    solution="Build the unique index CONCURRENTLY first, then attach it with ADD CONSTRAINT ... UNIQUE USING INDEX "
             "(a catalog-only change).",
)


@RULE.check
def check(stmt, ctx):
    if stmt.details.get("constraint_type") != "CONSTR_UNIQUE" or stmt.details.get("using_index") or ctx.is_new_table(stmt):
        return
    if stmt.kind not in ("ADD_CONSTRAINT",):
        return
    cols = ", ".join(ident(c) for c in stmt.objects[0].columns) if stmt.objects else "<columns>"
    name = stmt.details.get("constraint") or f"{stmt.table}_key"
    safe = (f"CREATE UNIQUE INDEX CONCURRENTLY {ident(name + '_idx')} ON {table_ref(stmt)} ({cols});\n"
            f"ALTER TABLE {table_ref(stmt)} ADD CONSTRAINT {ident(name)} UNIQUE USING INDEX {ident(name + '_idx')};")
    yield RULE.finding(stmt, f"UNIQUE constraint on {stmt.table} builds its index under ACCESS EXCLUSIVE", safe)
