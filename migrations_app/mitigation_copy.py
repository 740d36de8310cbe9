"""Copy a mitigation step into the plan the way a DBA would edit it by hand.

A *rewrite* (CREATE INDEX -> CREATE INDEX CONCURRENTLY, ADD COLUMN NOT NULL -> add, backfill, set)
takes the place of the statement it fixes: appending it would run both. A *preparation* or
*guard* step (backup, timeouts) goes before the statements it protects; anything else (the
dependents' recreation, a verification) goes where the step's phase puts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F

from migrations_app import workflow
from migrations_app.engines.statements import split_script
from migrations_app.models import PlanOperation
from migrations_app.plan_sql import ScriptError, script_to_operations

# Steps whose statements must run before the plan's own: a backup, session guards, and the
# recreation of dependent views without the column the plan drops.
BEFORE_THE_PLAN = ("prepare", "guard", "dependents")


@dataclass
class CopyResult:
    message: str


def _operations(sql_text: str, plan) -> list[dict]:
    operations = script_to_operations(sql_text, plan.schema, plan.target)
    for op in operations:
        op["line"] = None
    return operations


def statement_positions(plan) -> list[int]:
    """The operation position of each analysed statement, in order (an operation may hold several)."""
    positions = []
    for op in plan.operations.order_by("position", "id"):
        positions += [op.position] * max(1, len(split_script(op.sql)))
    return positions


def copy_step(plan, user, step: dict) -> CopyResult:
    """Raises ``ScriptError`` or ``workflow.WorkflowError`` with a message for the user."""
    rewrites = step.get("rewrites") or []
    if rewrites:
        return _replace(plan, user, step, rewrites)
    if step.get("sql_before") or step.get("sql_after"):
        return _surround(plan, user, step)
    if not step.get("safe_sql"):
        raise ScriptError("that mitigation step has no SQL to add")
    operations = _operations(step["safe_sql"], plan)
    at_start = step.get("phase") in BEFORE_THE_PLAN
    workflow.add_operations(plan, user, operations, at_start=at_start)
    where = "at the start of" if at_start else "at the end of"
    return CopyResult(f"Added \"{step.get('name')}\" {where} the plan as {len(operations)} operation(s). "
                      "Review the order, then analyse again.")


def _replace(plan, user, step: dict, rewrites: list[dict]) -> CopyResult:
    if not step.get("rewrites_complete", True):
        raise ScriptError("this step's rewrite is not known for every statement it names; "
                          "edit those statements by hand (Replace SQL)")
    placeholders = [r["sql"] for r in rewrites if "<" in r["sql"] and ">" in r["sql"]]
    if placeholders:
        raise ScriptError("the rewrite has a value only you can choose (" + placeholders[0][placeholders[0].index("<"):
                          placeholders[0].index(">") + 1] + "): copy it with \"Replace SQL\" and fill it in")
    positions = statement_positions(plan)
    by_position: dict[int, list[dict]] = {}
    for rewrite in rewrites:
        index = rewrite["statement_index"]
        if index >= len(positions):
            raise ScriptError("the plan changed since it was analysed: analyse it again")
        by_position.setdefault(positions[index], []).extend(_operations(rewrite["sql"], plan))
    shared = [p for p in by_position if positions.count(p) > 1]
    if shared:
        raise ScriptError(f"operation {shared[0]} holds several statements: split it before copying a rewrite")
    replaced = []

    def mutate(locked):
        # later positions first, so the shifts below never move an operation not yet handled
        for position in sorted(by_position, reverse=True):
            original = locked.operations.get(position=position)
            replaced.append(original.sql)
            new = by_position[position]
            original.delete()
            locked.operations.filter(position__gt=position).update(position=F("position") + len(new) - 1)
            PlanOperation.objects.bulk_create([PlanOperation(plan=locked, position=position + i, **op)
                                               for i, op in enumerate(new)])

    workflow.change_operations(plan, user, "plan.operation_rewritten", mutate,
                               {"step": step.get("id"), "replaced": len(by_position)})
    count = len(by_position)
    return CopyResult(f"Replaced {count} statement{'s' if count != 1 else ''} by \"{step.get('name')}\" "
                      f"(was: {replaced[-1][:80]}{' …' if count > 1 else ''}). Review, then analyse again.")


def _surround(plan, user, step: dict) -> CopyResult:
    """Dependent views: dropped before the plan's statements, recreated after them, in one change."""
    before = _operations(";\n".join(step.get("sql_before") or []), plan) if step.get("sql_before") else []
    after = _operations(";\n".join(step.get("sql_after") or []), plan) if step.get("sql_after") else []

    def mutate(locked):
        locked.operations.update(position=F("position") + len(before))
        end = (locked.operations.count() + len(before)) + 1
        PlanOperation.objects.bulk_create([PlanOperation(plan=locked, position=1 + i, **op) for i, op in enumerate(before)]
                                          + [PlanOperation(plan=locked, position=end + i, **op)
                                             for i, op in enumerate(after)])

    workflow.change_operations(plan, user, "plan.operation_added", mutate,
                               {"step": step.get("id"), "before": len(before), "after": len(after)})
    return CopyResult(f"Added \"{step.get('name')}\": {len(before)} statement(s) before the plan's and "
                      f"{len(after)} after. Read the comments of the step, then analyse again.")
