"""ban-duplicate-column-assignments: one column assigned twice in an UPDATE or named twice in an INSERT."""

from collections import Counter

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="ban-duplicate-column-assignments",
    severity="error",
    kinds=frozenset({"UPDATE", "INSERT"}),  # the check's first test: no finding for any other kind
    problem="An UPDATE that sets the same column twice, or an INSERT that lists it twice, is refused by "
            "PostgreSQL at run time (\"multiple assignments to same column\"); it is almost always a copy-paste "
            "slip that hides the value meant for another column.",
    solution="Assign each column once; check which column the second assignment was meant for.",
)


def _targets(stmt) -> list[str]:
    body = stmt.node.get("UpdateStmt") or stmt.node.get("InsertStmt") or {}
    key = "targetList" if "UpdateStmt" in stmt.node else "cols"
    return [next(iter(t.values())).get("name") for t in body.get(key, []) or []]


@RULE.check
def check(stmt, ctx):
    if stmt.kind not in ("UPDATE", "INSERT"):
        return
    for column, times in Counter(c for c in _targets(stmt) if c).items():
        if times > 1:
            yield RULE.finding(stmt, f"{stmt.kind} assigns {stmt.table}.{column} {times} times")
