"""adding-primary-key-constraint: ADD PRIMARY KEY builds its index (and checks NOT NULL) under ACCESS EXCLUSIVE."""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="adding-primary-key-constraint",
    severity="warning",
    kinds=frozenset({"ADD_CONSTRAINT"}),  # the check's first test: no finding for any other kind
    problem="Adding a primary key builds a unique index and checks NOT NULL on its columns while holding "
            "ACCESS EXCLUSIVE.",
    solution="CREATE UNIQUE INDEX CONCURRENTLY, make the columns NOT NULL through validated CHECK constraints, "
             "then ADD CONSTRAINT ... PRIMARY KEY USING INDEX.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "ADD_CONSTRAINT" or stmt.details.get("constraint_type") != "CONSTR_PRIMARY":
        return
    if stmt.details.get("using_index") or ctx.is_new_table(stmt):
        return
    cols = ", ".join(ident(c) for c in stmt.objects[0].columns) if stmt.objects else "<columns>"
    idx = ident(f"{stmt.table}_pkey_idx")
    safe = (f"CREATE UNIQUE INDEX CONCURRENTLY {idx} ON {table_ref(stmt)} ({cols});\n"
            f"ALTER TABLE {table_ref(stmt)} ADD CONSTRAINT {ident(stmt.table + '_pkey')} PRIMARY KEY USING INDEX {idx};")
    yield RULE.finding(stmt, f"PRIMARY KEY on {stmt.table} builds its index under ACCESS EXCLUSIVE", safe)
