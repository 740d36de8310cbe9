"""The rehearsal's way through a plan (``AtomicMigrationExecutor(try_every_statement=True)``):
after the first failure the later statements are still tried, each under a savepoint of a
transaction that is rolled back, so one run names every failing statement. The run fails and
rolls back exactly as it would without this; ``SegmentRun`` mixes it in.
"""

from __future__ import annotations

import psycopg

from migrations_app.engines.catalog import query
from migrations_app.engines.execution.lock import MigrationLockLost
from migrations_app.engines.execution.results import AttemptRecord, StatementLogEntry, now_iso

NOT_TRIED = "an earlier statement failed and this one cannot run inside the rehearsal's transaction"
PROBE = "probe"  # the phase of statements tried after the first failure: never committed, never counted


class TryEveryStatement:
    """Uses ``SegmentRun``'s executor, connection, result, ``_statement``, ``_abort`` and
    ``_rollback_quietly``, ``_worth_retrying``, ``_lock_lost`` and ``_facts``."""

    def _trying_every(self, phase: str) -> bool:
        return self.executor.try_every_statement and phase == self.result.mode == "migration"

    def _under_savepoint(self, record: AttemptRecord, index: int, operations, phase: str, attempt: int,
                         txid) -> None:
        """The first statement to fail is rolled back to its savepoint, so the transaction stays
        usable for trying the rest; then the whole transaction is rolled back and the run stops.
        A failure worth retrying, a lost lock or a lost session take the ordinary path."""
        self.conn.execute("SAVEPOINT dataflow_statement")
        try:
            self._statement(index, operations[index].sql, phase, attempt, True, txid)
        except psycopg.Error as exc:
            if (self._worth_retrying(exc, attempt) or self._lock_lost() or self.conn.closed
                    or self.conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR):
                raise
            self.conn.execute("ROLLBACK TO SAVEPOINT dataflow_statement")
            record.sqlstate, record.error = exc.sqlstate, _first_line(exc)
            self._try_the_rest(index + 1, operations, txid)
            self._rollback_quietly()
            raise self._abort(record, exc) from None
        self.conn.execute("RELEASE SAVEPOINT dataflow_statement")

    def _try_the_rest_after(self, start: int, operations) -> None:
        """After a statement in autocommit failed: the later ones in a transaction of their own."""
        if self.conn.closed or start >= len(self._facts):
            return
        try:
            with self.conn.pipeline():
                self.conn.execute("BEGIN")
                cursor = self.conn.execute(query("exec_txid"))
            txid = cursor.fetchone()[0]
        except psycopg.Error as exc:
            self._not_run(range(start, len(self._facts)), operations, f"the session failed: {_first_line(exc)}")
            self._rollback_quietly()
            return
        self._try_the_rest(start, operations, txid)
        self._rollback_quietly()

    def _try_the_rest(self, start: int, operations, txid) -> None:
        """Each statement from ``start`` under a savepoint of the open transaction, which the
        caller rolls back: a failed one leaves nothing behind and the next sees the state as if it
        had not been there. One PostgreSQL refuses in a transaction block is not sent."""
        for index in range(start, len(self._facts)):
            if not self._facts[index].transactional:
                self._not_run([index], operations, NOT_TRIED)
                continue
            try:
                self.conn.execute("SAVEPOINT dataflow_statement")
                try:
                    self._statement(index, operations[index].sql, PROBE, 1, True, txid)
                except psycopg.Error:
                    self.conn.execute("ROLLBACK TO SAVEPOINT dataflow_statement")
                else:
                    self.conn.execute("RELEASE SAVEPOINT dataflow_statement")
            except (psycopg.Error, MigrationLockLost) as exc:  # the session or the lock is gone
                self._not_run(range(index + 1, len(self._facts)), operations,
                              f"the session or the migration lock was lost: {_first_line(exc)}")
                return

    def _not_run(self, indices, operations, reason: str) -> None:
        for index in indices:
            self.result.statement_log.append(StatementLogEntry(
                sequence=len(self.result.statement_log), operation_index=index, phase=PROBE,
                sql=operations[index].sql, attempt=0, transactional=bool(self._facts[index].transactional),
                started_at=now_iso(), not_run=reason))


def first_line(exc: Exception) -> str:
    """The server's message in one line. A refused DROP (2BP01) also names what depends on the
    object, from the error's DETAIL: "cannot drop column ... because other objects depend on it"
    alone leaves the reader of a failed rehearsal or run guessing. Other DETAILs stay out: they
    can quote row values (a unique violation's key), which the statement log must not keep."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    detail = getattr(getattr(exc, "diag", None), "message_detail", None)
    if getattr(exc, "sqlstate", None) == "2BP01" and detail:
        text += " (" + "; ".join(line.strip() for line in detail.splitlines() if line.strip()) + ")"
    return text


_first_line = first_line
