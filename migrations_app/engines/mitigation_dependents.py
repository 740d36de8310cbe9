"""The SQL of "handle the dependents explicitly": for a column a statement drops or retypes, the
views that read it are dropped before the statement (outermost first) and recreated after it
(innermost first), without the column when it is dropped. What cannot be recreated without the
column, and function bodies PostgreSQL does not track, are named in comments for the author."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrations_app.engines.statements.identifiers import ident

VIEW_KINDS = {"VIEW": False, "MATERIALIZED_VIEW": True}


@dataclass
class DependentsSql:
    before: list[str] = field(default_factory=list)   # statements to run before the plan's
    after: list[str] = field(default_factory=list)    # statements to run after it
    notes: list[str] = field(default_factory=list)    # what the author must still decide (SQL comments)


def dependents_sql(kind: str, column: str, report) -> DependentsSql:
    """``kind``: the statement's kind (DROP_COLUMN or ALTER_TYPE); ``report``: its column's
    ``DependencyReport`` (views with their catalog definitions and nesting ``path``)."""
    # pglast's printers: only when a dependency report (a connected analysis) names views or triggers
    from migrations_app.engines.statements.view_columns import view_without_columns

    out = DependentsSql()
    views = [d for d in report.dependencies if d.type.value in VIEW_KINDS]
    views.sort(key=lambda d: (len(d.path), d.schema, d.name))
    for view in reversed(views):
        materialized = VIEW_KINDS[view.type.value]
        out.before.append(f"DROP {'MATERIALIZED VIEW' if materialized else 'VIEW'} {ident(view.schema, view.name)}")
    gone = {column} if kind == "DROP_COLUMN" else set()
    lost = set()   # views that cannot exist any more: the views built on them cannot either
    for view in views:
        materialized = VIEW_KINDS[view.type.value]
        inner = [step for step in view.path[:-1] if step in lost]
        if inner:
            lost.add(view.qualified_name)
            out.notes.append(f"{view.qualified_name} is built on {inner[0]}, which cannot be recreated: "
                             "it stays dropped (decide with its users)")
            continue
        rebuilt = view_without_columns(view.schema, view.name, view.definition, gone, materialized=materialized)
        if rebuilt.sql is None:
            lost.add(view.qualified_name)
            out.notes.append(f"{view.qualified_name} cannot be recreated without {column}: {rebuilt.reason}; "
                             "it stays dropped (decide with its users)")
            continue
        gone |= rebuilt.removed_outputs
        out.after.append(rebuilt.sql)
    if views:
        out.notes.append("grants on the recreated views are not copied: grant them again if they had any")
    functions = {dep.name.split("(")[0]: dep for dep in report.dependencies
                 if dep.type.value in ("FUNCTION", "PROCEDURE")}
    for dep in report.dependencies:
        if dep.type.value in ("FUNCTION", "PROCEDURE"):
            out.notes.append(f"{dep.type.value.lower()} {dep.qualified_name} uses {column} in its body: "
                             "change it in the plan (CREATE OR REPLACE) or it fails at its next call")
        elif dep.type.value == "TRIGGER" and kind == "DROP_COLUMN":
            _trigger(out, dep, column, functions)
    return out


def _trigger(out: DependentsSql, dep, column: str, functions: dict) -> None:
    # PostgreSQL refuses DROP COLUMN while a trigger's UPDATE OF names it: drop it first
    from migrations_app.engines.statements.view_columns import trigger_without_column

    out.before.insert(0, f"DROP TRIGGER {ident(dep.name)} ON {ident(dep.schema, dep.table)}")
    rebuilt = trigger_without_column(dep.definition, column)
    calls = dep.extra.get("function")
    if rebuilt is None:
        out.notes.append(f"trigger {dep.name} cannot keep its meaning without {column} (its WHEN or its only "
                         "UPDATE OF column): it stays dropped (decide with its users)")
    elif calls in functions or dep.extra.get("function_uses_dropped"):
        out.notes.append(f"trigger {dep.name} calls {calls}(), which uses {column}: it stays dropped until the "
                         f"function is changed; then recreate it with: {rebuilt}")
    else:
        out.after.append(rebuilt)
