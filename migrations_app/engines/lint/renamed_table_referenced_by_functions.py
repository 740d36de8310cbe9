"""renamed-table-referenced-by-functions: function bodies still name the old table (PostgreSQL does not
track references inside function bodies, so they fail only when called)."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="renamed-table-referenced-by-functions",
    severity="error",
    needs_catalog=True,
    problem="Functions and procedures whose body names the table keep the old name and fail at their next "
            "call after the rename or drop.",
    solution="Update those function bodies in the same plan (CREATE OR REPLACE FUNCTION), or keep a view "
             "with the old name during the transition.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind not in ("RENAME_TABLE", "DROP_TABLE"):
        return
    names = [stmt.details.get("old_name") or stmt.table] if stmt.kind == "RENAME_TABLE" else [o.table for o in stmt.objects]
    for name in names:
        refs = ctx.facts.function_refs.get(name, [])
        if refs:
            yield RULE.finding(stmt, f"{len(refs)} function(s) reference {name} in their body: {', '.join(refs)}",
                               functions=refs)
