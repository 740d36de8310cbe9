"""column-has-dependents: dropping, retyping or renaming a column (or dropping a table) that other
objects depend on; the dependents are named (from the dependency analyzer)."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="column-has-dependents",
    severity="error",
    needs_catalog=True,
    problem="Views, constraints, triggers, policies and function bodies that use the object fail, block the "
            "statement, or are silently dropped with CASCADE.",
    solution="Change or drop each dependent first (recreate views without the column, move function bodies), "
             "explicitly, in the same plan; never rely on CASCADE.",
)

KINDS = {"DROP_COLUMN", "ALTER_TYPE", "RENAME_COLUMN", "DROP_TABLE"}
IGNORED_IMPACTS = {"INFORMATIONAL", "LOW"}
RENAME_BREAKS = {"FUNCTION", "PROCEDURE", "INHERITED_FROM"}


@RULE.check
def check(stmt, ctx):
    if stmt.kind not in KINDS:
        return
    schema = ctx.schema_of(stmt)
    columns = [None] if stmt.kind == "DROP_TABLE" else (stmt.objects[0].columns if stmt.objects else [])
    for column in columns:
        report = ctx.dependency_reports.get((schema, stmt.table, column))
        if report is None:
            continue
        deps = [d for d in report.dependencies if d.impact.value not in IGNORED_IMPACTS]
        if stmt.kind == "RENAME_COLUMN":
            # objects bound by OID and column number follow a rename; what breaks is what names
            # the column as text, and PostgreSQL refuses to rename an inherited column
            deps = [d for d in deps if d.type.value in RENAME_BREAKS
                    and (d.type.value == "INHERITED_FROM" or d.line is not None or d.extra.get("parse_error"))]
        if not deps:
            continue
        names = [f"{d.type.value.lower().replace('_', ' ')} {d.schema}.{d.name}" for d in deps]
        target = f"{stmt.table}.{column}" if column else stmt.table
        worst = max(deps, key=lambda d: d.impact.rank).impact.value
        yield RULE.finding(stmt, f"{target} has {len(deps)} dependent object(s): {', '.join(names[:8])}"
                                 + (" ..." if len(names) > 8 else ""),
                           severity="error" if worst in ("CRITICAL", "HIGH") else "warning",
                           dependents=names, highest_impact=worst)
