"""The executor's journal on the target, and reconciliation from it.

When the worker or its app-database connection is lost, the app's record of an execution stops
where the worker stopped writing; the target's own record does not. Rule for each segment:

- transactional segment: its ``committed`` row is inserted inside the segment's transaction,
  after its statements and just before COMMIT. The row exists exactly when the segment
  committed -- PostgreSQL vouches for it, whatever happened to the worker afterwards.
- autocommit statement (CREATE INDEX CONCURRENTLY, VACUUM, ...): it cannot share a transaction
  with anything, so it is bracketed by an ``intent`` row (before) and a ``done`` row (after).
  ``done`` -> committed; no ``intent`` -> never started; ``intent`` without ``done`` -> decided
  from the catalog where the statement's effect can be read (CREATE / DROP INDEX: does the
  index exist and is it valid?), otherwise reported as *in doubt*, never guessed.

The journal is final only once no session of the execution is left on the target: a COMMIT
sent just before the worker died may still be in flight, so a live session means "not yet".
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import psycopg

from migrations_app.engines.catalog import query
from migrations_app.engines.statements import AnalysisEnv, SqlSyntaxError, describe, split_script
from targets.engines.connections import TargetConnection

JOURNAL_TABLE = "dataflow.migration_journal"
COMMITTED, NOT_COMMITTED, IN_DOUBT = "committed", "not committed", "in doubt"
# Serialises the first creation of the journal table (CREATE TABLE IF NOT EXISTS is not safe
# against a concurrent creator): a fixed key of the tool's own.
_SETUP_LOCK_KEY = 0x646174616A6E6C  # "datajnl"


class JournalError(Exception):
    """The journal could not be created or read; the message is safe to show."""


def ensure_journal(conn: psycopg.Connection) -> None:
    """Create the journal schema and table if missing (``conn`` in autocommit)."""
    try:
        if conn.execute(query("exec_journal_exists")).fetchone()[0]:
            return
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [_SETUP_LOCK_KEY])
            conn.execute(query("exec_journal_create"))
    except psycopg.Error as exc:
        raise JournalError(f"cannot create the execution journal {JOURNAL_TABLE} on the target: "
                           f"{_first_line(exc)}") from None


def record(conn: psycopg.Connection, key: str, phase: str, segment: int, entry: str,
           indices: list[int], transactional: bool) -> None:
    conn.execute(query("exec_journal_record"), {"key": key, "phase": phase, "segment": segment, "entry": entry,
                                                "indices": list(indices), "transactional": transactional})


@dataclasses.dataclass
class SegmentOutcome:
    phase: str
    segment: int
    operation_indices: list[int]
    transactional: bool
    outcome: str                  # committed | not committed | in doubt
    evidence: str
    txid: int | None = None


@dataclasses.dataclass
class Reconciliation:
    """What the target says an execution did. ``final`` is False while a session of the
    execution is still alive on the target (its last COMMIT may still land)."""

    journal_key: str
    final: bool
    live_sessions: list[int] = dataclasses.field(default_factory=list)
    segments: list[SegmentOutcome] = dataclasses.field(default_factory=list)
    read_at: str = ""

    def operations(self, phase: str, outcome: str) -> list[int]:
        return sorted({i for s in self.segments if s.phase == phase and s.outcome == outcome
                       for i in s.operation_indices})

    @property
    def in_doubt(self) -> list[SegmentOutcome]:
        return [s for s in self.segments if s.outcome == IN_DOUBT]

    def applied(self, phase: str, undo_phase: str | None = None) -> list[int]:
        """Operations of ``phase`` committed and not undone by a committed ``undo_phase`` step."""
        undone = set(self.operations(undo_phase, COMMITTED)) if undo_phase else set()
        return [i for i in self.operations(phase, COMMITTED) if i not in undone]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def reconcile(connection: TargetConnection, key: str, *, statements: dict[tuple[str, int], tuple[str, str]],
              application_name: str | None = None) -> Reconciliation:
    """Read the journal of execution ``key``. ``statements`` maps (phase, operation index) to
    (sql, schema) for the catalog check of an unfinished autocommit statement;
    ``application_name`` names the execution's sessions (alive -> not final)."""
    with connection.read_only() as conn:
        read_at = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        live = []
        if application_name:
            live = [row[0] for row in conn.execute(query("exec_backends_of_application"),
                                                   {"application_name": application_name})]
        rows = []
        if conn.execute(query("exec_journal_exists")).fetchone()[0]:
            rows = conn.execute(query("exec_journal_entries"), {"key": key}).fetchall()
        result = Reconciliation(journal_key=key, final=not live, live_sessions=live,
                                read_at=read_at.isoformat(timespec="milliseconds"))
        by_segment: dict[tuple[str, int], dict[str, tuple]] = {}
        for phase, segment, entry, indices, transactional, txid, _pid, recorded_at in rows:
            by_segment.setdefault((phase, segment), {})[entry] = (list(indices), transactional, txid, recorded_at)
        for (phase, segment), entries in sorted(by_segment.items(), key=lambda item: _first_written(item[1])):
            result.segments.append(_segment_outcome(conn, phase, segment, entries, statements))
        conn.rollback()
    return result


def _first_written(entries: dict) -> datetime:
    return min(value[3] for value in entries.values())


def _segment_outcome(conn, phase: str, segment: int, entries: dict, statements) -> SegmentOutcome:
    indices, transactional, txid, recorded_at = next(iter(entries.values()))
    outcome = SegmentOutcome(phase=phase, segment=segment, operation_indices=indices,
                             transactional=transactional, outcome=COMMITTED, evidence="", txid=None)
    if "committed" in entries:
        outcome.txid = entries["committed"][2]
        outcome.evidence = f"journal row written inside transaction {outcome.txid}, which committed"
        return outcome
    if "done" in entries:
        outcome.evidence = "journal 'done' row written after the autocommit statement returned"
        return outcome
    text, schema = statements.get((phase, indices[0]), (None, None))
    outcome.outcome, outcome.evidence = _catalog_effect(conn, text, schema)
    return outcome


def _catalog_effect(conn, text: str | None, schema: str | None) -> tuple[str, str]:
    """The outcome of an autocommit statement that started but whose end was not journaled."""
    prefix = "started ('intent' row) but its end was not journaled"
    target = _index_target(text, schema) if text else None
    if target is None:
        return IN_DOUBT, f"{prefix}; its effect cannot be read from the catalog: inspect the target"
    creates, index_schema, name = target
    row = conn.execute(query("exec_index_state"), {"schema": index_schema, "name": name}).fetchone()
    label = f"index {index_schema}.{name}"
    if creates:
        if row is None:
            return NOT_COMMITTED, f"{prefix}; {label} does not exist"
        if not row[0]:
            return NOT_COMMITTED, f"{prefix}; {label} exists but is INVALID (drop it before resuming)"
        return COMMITTED, f"{prefix}; {label} exists and is valid"
    if row is None:
        return COMMITTED, f"{prefix}; {label} no longer exists"
    return NOT_COMMITTED, f"{prefix}; {label} still exists"


def _index_target(text: str, schema: str | None) -> tuple[bool, str, str] | None:
    """(creates?, schema, index name) of a single CREATE INDEX / DROP INDEX of one index, read
    with the statement model the review and the executor use."""
    try:
        raws = split_script(text)
    except SqlSyntaxError:
        return None
    if len(raws) != 1:
        return None
    info = describe(raws[0], AnalysisEnv(default_schema=schema or "public"))
    if info.kind == "CREATE_INDEX" and info.details.get("index"):
        return True, info.schema or schema or "public", info.details["index"]
    indexes = [o for o in info.objects if o.relkind == "index"]
    if info.kind == "DROP_INDEX" and len(indexes) == 1:
        return False, indexes[0].schema or schema or "public", indexes[0].table
    return None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
