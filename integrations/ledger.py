"""The per-target ledger: what each executed plan did to a target, in order, and which file
versions are applied there (so a plan built from files leaves them out)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from integrations.drift import snapshot_entry
from integrations.models import LedgerEntry, OperationSource
from migrations_app.models import Execution, PlanOperation

# outcomes after which the plan's (applied) operations are on the target
APPLIED_OUTCOMES = {Execution.Status.SUCCEEDED, Execution.Status.PARTIALLY_APPLIED}
ROLLED_BACK = "ROLLED_BACK"


def _versions(plan, indices: list[int] | None = None) -> tuple[list[str], list[str]]:
    sources = OperationSource.objects.filter(operation__plan=plan)
    if indices is not None:
        ids = list(PlanOperation.objects.filter(plan=plan).order_by("position", "id").values_list("pk", flat=True))
        sources = sources.filter(operation__in=[ids[i] for i in set(indices) if 0 <= i < len(ids)])
    rows = list(sources.values_list("version", "path"))
    return (sorted({version for version, _ in rows if version}), sorted({path for _, path in rows}))


def record_execution(execution_id: int, *, snapshot: bool = False, taken=None) -> LedgerEntry | None:
    """One entry per finished execution (safe to call twice); None while it has not finished.
    ``snapshot``: the whole database's schema goes into the entry, right after the execution
    (drift is measured against it): ``taken`` when the executor read it after its last statement
    (a ``SchemaDigest``), else read now; an entry recorded late has none, rather than one that
    would take in whatever changed in between."""
    entry = _record(execution_id)
    if snapshot and entry is not None and not entry.snapshot_digest:
        entry = snapshot_entry(entry, taken)
    return entry


def _record(execution_id: int) -> LedgerEntry | None:
    # the run's logs and result (hundreds of kB for a long plan) are not what an entry records
    execution = (Execution.objects.select_related("plan", "plan__target")
                 .defer("statement_log", "result", "schema_diff", "reconciliation", "rollback_plan_to_run",
                        "data_verification").filter(pk=execution_id).first())
    if execution is None or execution.status not in Execution.finished_statuses:
        return None
    existing = LedgerEntry.objects.filter(execution=execution).defer("schema_snapshot").first()
    if existing is not None:
        return existing
    plan = execution.plan
    rollback = execution.kind == Execution.Kind.ROLLBACK
    if rollback:
        outcome = ROLLED_BACK if execution.status == Execution.Status.SUCCEEDED else execution.status
        versions, files = _versions(plan)
    else:
        outcome = execution.status
        applied = execution.committed_operations if execution.status == Execution.Status.PARTIALLY_APPLIED else None
        versions, files = _versions(plan, applied)
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(
                target=plan.target, plan=plan, execution=execution, versions=versions, files=files,
                sql_hash=execution.sql_hash or plan.sql_hash, applied_by_id=execution.user_id, outcome=outcome,
                schema_digest_after=execution.digest_after or "",
                recorded_at=execution.finished_at or execution.queued_at)
    except IntegrityError:  # the receiver and a reader recorded it at the same moment
        return LedgerEntry.objects.get(execution=execution)


def sync(target) -> None:
    """Record finished executions of the target's plans that have no entry yet (an execution
    finished by a path that did not announce it, e.g. the lost-worker monitor)."""
    missing = Execution.objects.filter(plan__target=target, status__in=Execution.finished_statuses,
                                       ledger_entry__isnull=True).order_by("pk").values_list("pk", flat=True)
    for execution_id in missing:
        record_execution(execution_id)


def history(target) -> list[LedgerEntry]:
    sync(target)
    return list(LedgerEntry.objects.filter(target=target).select_related("plan", "applied_by", "execution")
                .order_by("recorded_at", "id"))


def applied_versions(target) -> set[str]:
    """Versions on the target now: applied by a succeeded (or partially applied) migration, and
    not undone by a later rollback of that plan."""
    applied: set[str] = set()
    for entry in history(target):
        if entry.outcome in APPLIED_OUTCOMES and entry.execution and entry.execution.kind == Execution.Kind.MIGRATION:
            applied |= set(entry.versions)
        elif entry.outcome == ROLLED_BACK and entry.execution and entry.execution.kind == Execution.Kind.ROLLBACK:
            applied -= set(entry.versions)
    return applied
