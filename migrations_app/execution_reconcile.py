"""An execution's outcome from the target's own record (``dataflow.migration_journal``).

Used whenever the app's record cannot be trusted to be complete: the monitor found the worker
gone, a DBA asks to resume or to roll back a partially applied plan. Outcome rules, for a
migration (operations before ``start_operation`` were applied by the earlier runs it resumes):

- every operation applied                       -> SUCCEEDED          (plan SUCCEEDED)
- an autocommit statement whose end is unknown  -> IN_DOUBT           (plan PARTIALLY_APPLIED)
- nothing applied, no compensation              -> FAILED             (plan FAILED)
- nothing left applied after compensation       -> ROLLED_BACK        (plan ROLLED_BACK)
- some applied, compensation had started        -> ROLLBACK_FAILED    (plan ROLLBACK_FAILED)
- some applied, nothing undone                  -> PARTIALLY_APPLIED  (plan PARTIALLY_APPLIED)

A plan that is PARTIALLY_APPLIED cannot be reopened or executed from the start: a DBA resumes
at the first operation not applied, or rolls back the applied ones.
"""

from __future__ import annotations

import dataclasses

from migrations_app.engines.execution import COMMITTED, Reconciliation, reconcile
from migrations_app.engines.statements import MigrationOperation
from migrations_app.models import Execution, PlanStatus

S = Execution.Status


@dataclasses.dataclass
class Outcome:
    status: str
    plan_status: str
    applied: list[int]            # operation indices (rollback runs: rollback step indices)
    summary: str
    compensation_started: bool = False


def read_target_record(execution: Execution, operations: list[MigrationOperation] | None = None) -> Reconciliation:
    """The target's journal for ``execution`` (raises if the target cannot be read)."""
    statements = {}
    for index, op in enumerate(operations or []):
        statements[("migration", index)] = (op.sql, op.schema)
        if op.rollback_sql:
            statements[("compensation", index)] = (op.rollback_sql, op.schema)
    for index, step in enumerate((execution.stored_rollback_plan or {}).get("steps", [])):
        statements[("rollback", index)] = (step.get("sql", ""), execution.plan.schema)
    return reconcile(execution.plan.target.connection(), execution.journal_key, statements=statements,
                     application_name=execution.application_name or None)


def migration_outcome(execution: Execution, record: Reconciliation, total: int) -> Outcome:
    prior = set(range(execution.start_operation))
    applied = sorted(prior | set(record.applied("migration", "compensation")))
    compensated = record.operations("compensation", COMMITTED)
    compensation_started = any(s.phase == "compensation" for s in record.segments)
    described = describe(record)
    if record.in_doubt:
        return Outcome(S.IN_DOUBT, PlanStatus.PARTIALLY_APPLIED, applied, described, compensation_started)
    if len(applied) == total:
        return Outcome(S.SUCCEEDED, PlanStatus.SUCCEEDED, applied, described)
    if not applied:
        if compensated:
            return Outcome(S.ROLLED_BACK, PlanStatus.ROLLED_BACK, applied, described, True)
        return Outcome(S.FAILED, PlanStatus.FAILED, applied, described or "no operation committed")
    if compensation_started:
        return Outcome(S.ROLLBACK_FAILED, PlanStatus.ROLLBACK_FAILED, applied, described, True)
    return Outcome(S.PARTIALLY_APPLIED, PlanStatus.PARTIALLY_APPLIED, applied, described)


def rollback_outcome(execution: Execution, record: Reconciliation, total: int) -> Outcome:
    """A rollback run: every step committed, none (the plan is as before), or some."""
    done = record.operations("rollback", COMMITTED)
    described = describe(record)
    before = execution.rollback_of.status if execution.rollback_of_id else S.SUCCEEDED
    if record.in_doubt:
        return Outcome(S.IN_DOUBT, PlanStatus.ROLLBACK_FAILED, done, described)
    if total and len(done) == total:
        return Outcome(S.SUCCEEDED, PlanStatus.ROLLED_BACK, done, described)
    if not done:  # nothing undone: the plan is exactly as applied before the rollback
        plan_to = PlanStatus.PARTIALLY_APPLIED if before == S.PARTIALLY_APPLIED else PlanStatus.SUCCEEDED
        return Outcome(S.FAILED, plan_to, done, described or "no rollback step committed")
    return Outcome(S.FAILED, PlanStatus.ROLLBACK_FAILED, done, described)


def describe(record: Reconciliation) -> str:
    """One sentence per segment, numbered from 1 as on the page."""
    parts = []
    for segment in record.segments:
        numbers = ", ".join(str(i + 1) for i in segment.operation_indices)
        noun = {"migration": "operation", "compensation": "undo of operation",
                "rollback": "rollback step"}.get(segment.phase, segment.phase)
        parts.append(f"{noun}{'s' if len(segment.operation_indices) > 1 else ''} {numbers}: "
                     f"{segment.outcome} ({segment.evidence})")
    return "; ".join(parts)


def resume_point(applied: list[int], total: int) -> int | None:
    """The first operation not applied, if everything before it is applied and nothing after."""
    start = len(applied)
    if applied != list(range(start)) or start >= total:
        return None
    return start
