"""Result dataclasses of an execution or a rollback: plain data, stored by the app as JSON."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclasses.dataclass
class StatementLogEntry:
    sequence: int
    operation_index: int | None
    phase: str                 # "migration" | "backup" | "compensation" | "rollback" | "cleanup"
    sql: str
    attempt: int
    transactional: bool
    started_at: str
    duration_ms: float = 0.0
    rows: int | None = None
    sqlstate: str | None = None
    error: str | None = None
    txid: int | None = None
    not_run: str | None = None  # why this statement was not sent (logged so every statement has an entry)
    rows_from_backup: bool = False  # TRUNCATE: ``rows`` is the count of the copy taken under its lock


@dataclasses.dataclass
class AttemptRecord:
    segment: int
    attempt: int
    started_at: str
    outcome: str               # "committed" | "retry" | "failed"
    sqlstate: str | None = None
    error: str | None = None
    backoff_seconds: float | None = None
    txid: int | None = None


@dataclasses.dataclass
class MigrationResult:
    mode: str = "migration"
    success: bool = False
    execution_time_ms: float = 0.0
    error_message: str | None = None
    error_type: str | None = None
    sqlstate: str | None = None
    rollback_executed: bool = False
    rollback_complete: bool | None = None      # None: no compensation was needed
    operations_completed: int = 0
    statement_log: list[StatementLogEntry] = dataclasses.field(default_factory=list)
    attempts: list[AttemptRecord] = dataclasses.field(default_factory=list)
    txid: int | None = None                    # the last committed transaction
    txids: list[int] = dataclasses.field(default_factory=list)
    in_doubt_resolution: str | None = None
    journal_key: str | None = None             # this run's rows in the target's dataflow.migration_journal
    start_at: int = 0                          # a resume: operations before this committed earlier
    compensated_operations: list[int] = dataclasses.field(default_factory=list)  # undone again, committed
    backend_pid: int | None = None
    lock_holder: str = ""
    lock_lost: bool = False
    schemas: list[str] = dataclasses.field(default_factory=list)
    digest_before: str | None = None
    digest_after: str | None = None
    schema_diff: dict | None = None            # SchemaDiff.to_dict(): objects added, removed, changed
    schema_diff_reference: str = ""            # what the diff starts from: "before this run" or "before the migration"
    verified: bool | None = None               # rollback runs: schema verified and data verified (or none changed)
    schema_verified: bool | None = None        # rollback runs: digest equals the pre-migration one
    data_verified: bool | None = None          # rollback runs: True checked equal, False checked different, None not checked
    data_verification: dict | None = None      # rollback.verification.data_verification()
    rows_modified: int = 0
    rollback_plan: object | None = None        # RollbackPlan (undoes this execution)
    # the whole database's schema right after the run (``snapshot_after=True``): for the caller to
    # keep (the drift ledger), never part of ``to_dict``
    snapshot_after: object | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    started_at: str = dataclasses.field(default_factory=now_iso)
    finished_at: str | None = None

    def finish(self, *, error: str | None = None) -> "MigrationResult":
        if error:
            self.error_message = error
        self.success = self.error_message is None
        self.rows_modified = sum(e.rows or 0 for e in self.statement_log
                                 if e.error is None and e.phase == self.mode)
        self.finished_at = now_iso()
        return self

    def to_dict(self) -> dict:
        # the log entries and attempts hold plain values only: copied flat (dataclasses.asdict's
        # deep recursion was most of the cost for a long plan), the rest as asdict does
        data = dataclasses.asdict(dataclasses.replace(self, rollback_plan=None, snapshot_after=None,
                                                      statement_log=[], attempts=[]))
        del data["snapshot_after"]
        data["statement_log"] = [dict(vars(entry)) for entry in self.statement_log]
        data["attempts"] = [dict(vars(attempt)) for attempt in self.attempts]
        if self.rollback_plan is not None:
            data["rollback_plan"] = self.rollback_plan.to_dict()
        return data
