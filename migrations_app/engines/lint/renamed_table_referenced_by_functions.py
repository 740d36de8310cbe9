"""renamed-table-referenced-by-functions: function bodies still name the old table (PostgreSQL does not
track references inside function bodies, so they fail only when called).

The routines come from the dependency analyzer's parse of their bodies (a name in a comment or
inside another identifier is not a reference), through the rename or dependency report."""

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

ROUTINE_TYPES = ("FUNCTION", "PROCEDURE")


def routines_naming(ctx, schema: str, name: str, kind: str) -> list[str]:
    """Routines whose body names ``schema.name``, from the parse-tree analysis of this plan."""
    if kind == "RENAME_TABLE":
        report = ctx.dependency_reports.get((schema, name, None, "RENAME_TABLE"))
        return [f"{o.schema}.{o.object_name}" for o in report.readers_of_old_name] if report else []
    report = ctx.dependency_reports.get((schema, name, None))
    if report is None:
        return []
    return [f"{d.schema}.{d.name}" for d in report.dependencies
            if d.type.value in ROUTINE_TYPES and (d.line is not None or d.extra.get("parse_error"))]


@RULE.check
def check(stmt, ctx):
    if stmt.kind not in ("RENAME_TABLE", "DROP_TABLE"):
        return
    if stmt.kind == "RENAME_TABLE":
        targets = [(ctx.schema_of(stmt), stmt.details.get("old_name") or stmt.table)]
    else:
        targets = [(o.schema or ctx.default_schema, o.table) for o in stmt.objects]
    for schema, name in targets:
        refs = routines_naming(ctx, schema, name, stmt.kind)
        if refs:
            yield RULE.finding(stmt, f"{len(refs)} function(s) reference {name} in their body: {', '.join(refs)}",
                               functions=refs)
