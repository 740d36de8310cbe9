"""One run of the executor: segments, attempts, statements, compensation.

Split from ``executor`` to keep both readable; ``SegmentRun`` holds the per-run state (the
executing connection, the held locks, the result being filled in).
"""

from __future__ import annotations

import time

import psycopg
from psycopg import sql

from migrations_app.engines.execution import journal
from migrations_app.engines.catalog import query
from migrations_app.engines.execution.every_statement import TryEveryStatement
from migrations_app.engines.execution.every_statement import first_line as _first_line
from migrations_app.engines.execution.results import AttemptRecord, MigrationResult, StatementLogEntry, now_iso
from migrations_app.engines.execution.lock import MigrationLockLost
from migrations_app.engines.statements import MigrationOperation
from migrations_app.engines.rollback import backup_schema_sql

RETRYABLE_SQLSTATES = {"55P03": "lock_not_available", "40P01": "deadlock_detected"}


class _Abort(Exception):
    """``committed``: the failing segment had committed anyway (only its journal entry failed)."""

    def __init__(self, message: str, sqlstate: str | None = None, lock_lost: bool = False,
                 committed: bool = False):
        super().__init__(message)
        self.sqlstate = sqlstate
        self.lock_lost = lock_lost
        self.committed = committed


def resolve_in_doubt_commit(connection, txid: int, *, wait_seconds: float = 10.0) -> str:
    """Outcome of transaction ``txid`` after its COMMIT lost the connection: 'committed',
    'aborted', 'unknown' (xid too old to know) or, after ``wait_seconds``, 'in progress'.
    Never re-run a transaction whose outcome is not 'aborted'."""
    deadline = time.monotonic() + wait_seconds
    with connection.read_only() as conn:
        while True:
            status = conn.execute(query("exec_xact_status"), {"txid": txid}).fetchone()[0]
            conn.rollback()
            if status in ("committed", "aborted"):
                return status
            if status is None:
                return "unknown"
            if time.monotonic() >= deadline:
                return "in progress"
            time.sleep(0.1)


def segment_operations(facts) -> list[tuple[list[int], bool]]:
    """Consecutive transactional statements share one transaction; any other runs alone."""
    segments: list[tuple[list[int], bool]] = []
    for index, fact in enumerate(facts):
        if fact.transactional and segments and segments[-1][1]:
            segments[-1][0].append(index)
        else:
            segments.append(([index], fact.transactional))
    return segments


class SegmentRun(TryEveryStatement):
    def __init__(self, executor, conn: psycopg.Connection, locks, result: MigrationResult, backups: dict,
                 journal_key: str):
        self.executor = executor
        self.journal_key = journal_key
        self.conn = conn
        self.locks = locks
        self.result = result
        self.backups = backups
        self.emit = executor._emit
        self._backup_schema_ready = False
        self.origin: list[int] | None = None
        self._facts: list = []  # of the run's own operations, for trying every statement

    # -- segments -------------------------------------------------------------------------
    def operations(self, operations: list[MigrationOperation], facts, *, phase: str,
                   origin: list[int] | None = None, start_at: int = 0) -> int:
        """Runs the segments in order, from the one starting at operation ``start_at`` (a resume:
        the ones before committed in an earlier execution); returns the index after the last
        committed operation. ``origin`` maps an index to the one journaled (compensation steps
        are journaled under the operation they undo)."""
        segments = segment_operations(facts)
        if start_at and start_at not in {indices[0] for indices, _ in segments}:
            raise _Abort(f"operation {start_at + 1} is not the start of a segment: cannot resume there")
        self.origin = origin
        if phase == self.result.mode:
            self._facts = list(facts)
        completed = start_at
        if phase == self.result.mode:
            self.result.operations_completed = start_at
        for number, (indices, transactional) in enumerate(segments):
            if indices[0] < start_at:
                continue
            try:
                if transactional:
                    self._transaction(number, indices, operations, phase)
                else:
                    self._autocommit(number, indices[0], operations[indices[0]], phase)
            except _Abort as exc:
                if exc.committed:
                    completed = indices[-1] + 1
                    if phase == self.result.mode:
                        self.result.operations_completed = completed
                if not transactional and not exc.lock_lost and not exc.committed and self._trying_every(phase):
                    self._try_the_rest_after(indices[0] + 1, operations)
                if phase == self.result.mode:
                    self.result.error_message = str(exc)
                    self.result.sqlstate = exc.sqlstate
                    self.result.lock_lost = self.result.lock_lost or exc.lock_lost
                    self.result.rollback_executed = transactional and not exc.committed
                else:
                    raise
                return completed
            completed = indices[-1] + 1
            if phase == self.result.mode:
                self.result.operations_completed = completed
            elif phase == "compensation" and origin is not None:
                self.result.compensated_operations += [origin[i] for i in indices]
        return completed

    def compensate(self, operations: list[MigrationOperation], start: int, completed: int) -> bool:
        """Undo operations ``start``..``completed - 1`` with their rollback SQL, in reverse.
        True if all undone."""
        if self.result.lock_lost:
            self.result.rollback_complete = False
            self.result.warnings.append("lock lost: committed operations were not compensated")
            return False
        done = [(index, operations[index]) for index in range(start, completed)]
        undoable = [(index, op) for index, op in reversed(done) if op.rollback_sql and op.rollback_sql.strip()]
        undo = [MigrationOperation(type=f"UNDO_{op.type}", table_name=op.table_name, sql=op.rollback_sql,
                                   schema=op.schema, destroys_data=False) for _, op in undoable]
        missing = len(done) - len(undo)
        self.emit({"event": "compensation_started", "operations": len(undo)})
        try:
            self.operations(undo, [op.facts() for op in undo], phase="compensation",
                            origin=[index for index, _ in undoable])
        except _Abort as exc:
            self.result.rollback_complete = False
            self.result.error_message += f"; compensation failed: {exc}"
            return False
        self.result.rollback_complete = missing == 0
        if missing:
            self.result.warnings.append(f"{missing} committed operation(s) have no rollback SQL and stay applied")
        return True

    # -- one transaction, retried as a whole ---------------------------------------------
    def _transaction(self, number: int, indices: list[int], operations, phase: str) -> None:
        for attempt in range(1, self.executor.max_attempts + 1):
            record = self._attempt(number, attempt)
            txid = None
            try:
                self._check_lock()
                self._prepare_backups(indices, phase)
                with self.conn.pipeline():  # BEGIN and the transaction id in one round trip
                    self.conn.execute("BEGIN")
                    cursor = self.conn.execute(query("exec_txid"))
                txid = record.txid = cursor.fetchone()[0]
                for index in indices:
                    self._backup(index, phase, attempt, txid)
                    if self._trying_every(phase):
                        self._under_savepoint(record, index, operations, phase, attempt, txid)
                    else:
                        self._statement(index, operations[index].sql, phase, attempt, True, txid)
                self._verify_lock()
                # inside the transaction: the row exists exactly when the segment commits
                self._journal(phase, number, "committed", indices, True)
            except (psycopg.Error, MigrationLockLost) as exc:
                self._rollback_quietly()
                if self._retry(record, exc, attempt):
                    continue
                raise self._abort(record, exc) from None
            self._commit(record, txid)
            return

    def _commit(self, record: AttemptRecord, txid: int) -> None:
        try:
            self.conn.execute("COMMIT")
        except psycopg.OperationalError as exc:
            status = resolve_in_doubt_commit(self.executor.connection, txid)
            self.result.in_doubt_resolution = f"transaction {txid}: {status}"
            if status != "committed":
                record.outcome = "failed"
                raise _Abort(f"COMMIT lost the connection ({_first_line(exc)}); transaction {txid} is {status}")
            # committed: the lock is on its own connection, so continuing on a new session is safe
            self.conn = self.executor._connect(self.result)
        record.outcome = "committed"
        self.result.txid = txid
        self.result.txids.append(txid)
        self.emit({"event": "committed", "txid": txid, "segment": record.segment})

    # -- one statement alone in autocommit ------------------------------------------------
    def _autocommit(self, number: int, index: int, op: MigrationOperation, phase: str) -> None:
        for attempt in range(1, self.executor.max_attempts + 1):
            record = self._attempt(number, attempt)
            try:
                self._check_lock()
                invalid_before = self._invalid_indexes(op.schema)
                self._prepare_backups([index], phase)
                self._backup(index, phase, attempt, None)
                self._journal(phase, number, "intent", [index], False)
                self._statement(index, op.sql, phase, attempt, False, None)
            except (psycopg.Error, MigrationLockLost) as exc:
                if isinstance(exc, psycopg.Error) and not self.conn.closed:
                    self._drop_new_invalid_indexes(op.schema, invalid_before, index, attempt)
                if self._retry(record, exc, attempt):
                    continue
                raise self._abort(record, exc) from None
            record.outcome = "committed"
            try:
                self._journal(phase, number, "done", [index], False)
            except psycopg.Error as exc:  # committed all the same: never retried, never re-run
                raise _Abort(f"operation {index + 1} committed, but its journal entry failed "
                             f"({_first_line(exc)}): migration stopped", getattr(exc, "sqlstate", None),
                             committed=True) from None
            return

    # -- helpers --------------------------------------------------------------------------
    def _journal(self, phase: str, number: int, entry: str, indices: list[int], transactional: bool) -> None:
        if phase == "cleanup":
            return
        if self.origin is not None:
            indices = [self.origin[i] for i in indices]
        journal.record(self.conn, self.journal_key, phase, number, entry, indices, transactional)

    def _attempt(self, number: int, attempt: int) -> AttemptRecord:
        record = AttemptRecord(segment=number, attempt=attempt, started_at=now_iso(), outcome="running")
        self.result.attempts.append(record)
        self.emit({"event": "attempt_started", "segment": number, "attempt": attempt,
                   "backend_pid": self.conn.info.backend_pid})
        return record

    def _retry(self, record: AttemptRecord, exc: Exception, attempt: int) -> bool:
        sqlstate = getattr(exc, "sqlstate", None)
        record.sqlstate, record.error = sqlstate, _first_line(exc)
        if self._lock_lost() or sqlstate not in RETRYABLE_SQLSTATES or attempt >= self.executor.max_attempts:
            return False
        record.outcome = "retry"
        record.backoff_seconds = round(self.executor._backoff(attempt), 3)
        self.emit({"event": "retry", "segment": record.segment, "attempt": attempt, "sqlstate": sqlstate,
                   "backoff_seconds": record.backoff_seconds})
        time.sleep(record.backoff_seconds)
        return True

    def _abort(self, record: AttemptRecord, exc: Exception) -> _Abort:
        record.outcome = "failed"
        sqlstate = getattr(exc, "sqlstate", None)
        if self._lock_lost() or isinstance(exc, MigrationLockLost):
            lost = next((lock for lock in self.locks if lock.lost), None)
            reason = lost.lost_reason if lost else _first_line(exc)
            return _Abort(f"migration lock lost ({reason}): migration stopped, transaction rolled back",
                          sqlstate, lock_lost=True)
        if sqlstate in RETRYABLE_SQLSTATES:
            return _Abort(f"{RETRYABLE_SQLSTATES[sqlstate]} after {record.attempt} attempt(s): {_first_line(exc)}",
                          sqlstate)
        return _Abort(_first_line(exc), sqlstate)

    def _worth_retrying(self, exc: psycopg.Error, attempt: int) -> bool:
        return exc.sqlstate in RETRYABLE_SQLSTATES and attempt < self.executor.max_attempts

    def _lock_lost(self) -> bool:
        return any(lock.lost for lock in self.locks)

    def _check_lock(self) -> None:
        for lock in self.locks:
            lock.ensure_held()

    def _verify_lock(self) -> None:
        for lock in self.locks:
            lock.verify_held()

    def _rollback_quietly(self) -> None:
        if not self.conn.closed and self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            try:
                self.conn.execute("ROLLBACK")
            except psycopg.Error:
                pass

    def _statement(self, index, text: str, phase: str, attempt: int, transactional: bool, txid) -> None:
        self._check_lock()
        entry = StatementLogEntry(sequence=len(self.result.statement_log), operation_index=index, phase=phase,
                                  sql=text, attempt=attempt, transactional=transactional,
                                  started_at=now_iso(), txid=txid)
        self.result.statement_log.append(entry)
        self.emit({"event": "statement_started", "index": index, "sequence": entry.sequence, "phase": phase,
                   "attempt": attempt, "backend_pid": self.conn.info.backend_pid})
        started = time.perf_counter()
        try:
            cursor = self.conn.execute(text)
        except psycopg.Error as exc:
            entry.duration_ms = round((time.perf_counter() - started) * 1000, 3)
            entry.sqlstate, entry.error = exc.sqlstate, _first_line(exc)
            self.emit({"event": "statement_failed", "index": index, "sequence": entry.sequence,
                       "sqlstate": exc.sqlstate, "duration_ms": entry.duration_ms})
            raise
        entry.duration_ms = round((time.perf_counter() - started) * 1000, 3)
        entry.rows = _rows_changed(cursor)
        if phase == "migration" and transactional:
            self._check_backed_up_rows(index, entry, attempt, txid)
        self.emit({"event": "statement_finished", "index": index, "sequence": entry.sequence,
                   "duration_ms": entry.duration_ms, "rows": entry.rows})

    def _prepare_backups(self, indices, phase: str) -> None:
        if self._backup_schema_ready or phase != "migration" or not any(i in self.backups for i in indices):
            return
        try:  # outside the transaction: a concurrent creator must not abort our migration
            self.conn.execute(backup_schema_sql())
        except psycopg.errors.UniqueViolation:
            pass
        self._backup_schema_ready = True

    def _backup(self, index: int, phase: str, attempt: int, txid) -> None:
        if phase != "migration":
            return
        for backup in self.backups.get(index, ()):
            if backup.lock_sql and txid is not None:
                self._statement(index, backup.lock_sql, "backup", attempt, True, txid)
            self._statement(index, backup.sql, "backup", attempt, txid is not None, txid)
            backup.capture(self.conn)  # count and checksum the rollback checks the restore against

    def _check_backed_up_rows(self, index: int, entry, attempt: int, txid) -> None:
        """After a backed-up statement, inside its transaction. TRUNCATE reports no row count: the
        rows it removed are the rows copied just before under a SHARE lock (no writer in between). DELETE
        and UPDATE must have changed exactly the rows copied; otherwise another session wrote
        matching rows between the copy and the statement (or the WHERE is volatile) and the rollback
        could not restore them: the transaction is failed by the server, nothing of it applies."""
        backups = self.backups.get(index, ())
        if not backups:
            return
        if entry.rows is None and all(b.lock_sql and b.rows is not None for b in backups):
            entry.rows = sum(b.rows for b in backups)
            entry.rows_from_backup = True
            return
        counted = [b for b in backups if b.matches_statement_rows]
        if not counted or entry.rows is None or any(b.rows is None for b in counted):
            return
        saved = sum(b.rows for b in counted)
        if entry.rows == saved:
            return
        message = (f"operation {index + 1} changed {entry.rows} row(s) but the backup taken just before it "
                   f"holds {saved}: rows were written by another session in between (or the statement "
                   f"chooses rows differently each time), so its rollback could not restore them; "
                   f"the transaction was rolled back and nothing of it was applied")
        tag = "dfcheck"
        body = sql.SQL("BEGIN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = {}; END").format(
            sql.Literal(message)).as_string(self.conn)
        self._statement(index, f"DO ${tag}$ {body} ${tag}$", "backup", attempt, True, txid)

    def _invalid_indexes(self, schema: str) -> set[int]:
        return {row[0] for row in self.conn.execute(query("exec_invalid_indexes"), {"schema": schema})}

    def _drop_new_invalid_indexes(self, schema: str, before: set[int], index: int, attempt: int) -> None:
        """A failed CREATE INDEX / REINDEX CONCURRENTLY leaves an INVALID index that still slows
        every write: drop the ones this statement left."""
        try:
            rows = self.conn.execute(query("exec_invalid_indexes"), {"schema": schema}).fetchall()
            for oid, index_schema, name in rows:
                if oid not in before:
                    statement = sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(
                        sql.Identifier(index_schema, name)).as_string(self.conn)
                    self._statement(index, statement, "cleanup", attempt, False, None)
        except (psycopg.Error, MigrationLockLost) as exc:
            self.result.warnings.append(f"could not drop the INVALID index left by a failed statement: {exc}")


# Command tags whose count is rows written to existing tables. A SELECT's count is rows returned
# (``SELECT pg_sleep(5)`` is 1), and CREATE TABLE AS / SELECT INTO fill a new table: neither is
# "rows modified" on the page.
_ROW_CHANGING_TAGS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "COPY"})


def _rows_changed(cursor) -> int | None:
    tag = (cursor.statusmessage or "").split(" ", 1)[0]
    return cursor.rowcount if tag in _ROW_CHANGING_TAGS and cursor.rowcount >= 0 else None

