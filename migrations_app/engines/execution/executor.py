"""Atomic migration executor (runbook: ``AtomicMigrationExecutor``).

- The executing session sets ``lock_timeout`` (default 2 s: an ALTER queued behind a slow reader
  must not block every query behind it) and ``statement_timeout``; a whole transaction that hit
  ``lock_not_available`` (55P03) or a deadlock is retried with exponential backoff and jitter.
- Consecutive transactional statements run in one transaction; a statement PostgreSQL refuses
  in a transaction block runs alone in autocommit. A failure rolls the open transaction back and
  runs the ``rollback_sql`` of the operations already committed, in reverse; a failed
  ``CREATE INDEX CONCURRENTLY`` leaves no INVALID index behind.
- Before each statement the migration lock is checked; losing it cancels the running statement
  (from the heartbeat thread) and stops the migration.
- Each transaction's id is recorded, so a COMMIT whose connection dropped is resolved with
  ``pg_xact_status`` instead of being re-run.
- Every segment leaves its outcome in the target's journal (``journal``) under the
  run's ``journal_key``, so a lost worker's execution is reconciled from the target itself.
- ``idle_in_transaction_session_timeout`` is short (60 s) and independent of
  ``statement_timeout``: a frozen worker must not hold ACCESS EXCLUSIVE for the statement budget.
- Rehearsals only (``try_every_statement``): after the first failure the later statements are
  still tried under savepoints and rolled back (``every_statement``), to name every failure.
"""

from __future__ import annotations

import random
import select
import threading
import time
import uuid
from contextlib import ExitStack
from typing import Callable, Iterable

import psycopg
from psycopg import sql

from migrations_app.engines.catalog import query
from migrations_app.engines.execution.journal import ensure_journal
from migrations_app.engines.execution.results import MigrationResult
from migrations_app.engines.execution.run import SegmentRun
from migrations_app.engines.execution.lock import MigrationLock, MigrationLockLost, MigrationLockManager
from targets.engines.connections import TargetConnection
from migrations_app.engines.statements import (MigrationOperation, StatementFacts, StatementParseError,
                                                          StatementRefused, check_sql_policy)
from migrations_app.engines.rollback import (DATA_OK, DEFAULT_BACKUP_MAX_BYTES, RollbackPlan, build_rollback_plan,
                                             data_verification, steps_with_data_checks)
from migrations_app.engines.execution.digest import (SchemaDigest, SchemaDigestError, column_order_note,
                                                     digest_and_snapshot, reordered_relations, schema_digest)
from migrations_app.engines.execution.schema_snapshot import diff_objects

Progress = Callable[[dict], None]


class AtomicMigrationExecutor:
    def __init__(self, connection: TargetConnection, *, lock_timeout_ms: int = 2000,
                 statement_timeout_ms: int = 15 * 60 * 1000, idle_in_transaction_timeout_ms: int = 60_000,
                 max_attempts: int = 5,
                 backoff_base_seconds: float = 0.2, backoff_max_seconds: float = 10.0,
                 lock_wait_seconds: float = 30.0, verify_digest: bool = True,
                 lock_manager: MigrationLockManager | None = None,
                 application_name: str = "dataflow-executor", search_path: str | None = None,
                 backup_max_bytes: int | None = DEFAULT_BACKUP_MAX_BYTES, try_every_statement: bool = False,
                 snapshot_after: bool = False):
        """``search_path``: the plan's schema; unqualified names in its SQL resolve there first
        (then ``public``, where extensions usually live). None keeps the server's setting.
        ``try_every_statement`` (rehearsals only): after the first failure the later statements
        are still tried, each under a savepoint of a transaction that is then rolled back, so one
        run names every failing statement; the run fails and rolls back exactly as without it.
        ``snapshot_after``: the digest after the run is read together with the whole database's
        schema (``result.snapshot_after``, a ``SchemaDigest`` of every non-system schema), in one
        catalog read on the lock session, for a caller that records it (the drift ledger)."""
        self.snapshot_after = snapshot_after
        self._opening: _Background | None = None   # an executing session opened ahead (start_connecting)
        self.connection = connection
        self.try_every_statement = try_every_statement
        self.search_path = search_path
        self.backup_max_bytes = backup_max_bytes   # None: no limit
        self.lock_timeout_ms = lock_timeout_ms
        self.statement_timeout_ms = statement_timeout_ms
        self.idle_in_transaction_timeout_ms = idle_in_transaction_timeout_ms
        self.max_attempts = max(1, max_attempts)
        self.backoff_base_seconds = backoff_base_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.lock_wait_seconds = lock_wait_seconds
        self.verify_digest = verify_digest
        self.lock_manager = lock_manager or MigrationLockManager(connection)
        self.application_name = application_name
        self.backend_pid: int | None = None   # of the executing session, for an emergency stop

    # -- the executing session ahead of the run -------------------------------------------
    def start_connecting(self) -> None:
        """Start opening the executing session now, in the background: the caller has work to do
        before the run (the app parses the plan and takes the locks) while the server forks the
        backend. The next run takes it; ``discard_session`` closes it when no run does."""
        if self._opening is None:
            self._opening = _Background(self._open_session, discard=lambda conn: conn.close())

    def discard_session(self) -> None:
        opening, self._opening = self._opening, None
        if opening is not None:
            opening.discard()

    def _opening_session(self) -> "_Background":
        opening, self._opening = self._opening, None
        return opening or _Background(self._open_session, discard=lambda conn: conn.close())

    def _alive_or_new(self, conn: psycopg.Connection) -> psycopg.Connection:
        """A session opened ahead may have waited out a long lock wait: one the server ended
        meanwhile (its socket turned readable while idle: FATAL and close) is replaced."""
        if conn.closed or conn.broken or select.select([conn.fileno()], [], [], 0)[0]:
            conn.close()
            return self._open_session()
        return conn

    # -- the runbook API ------------------------------------------------------------------
    def prepare_rollback_plan(self, operations: list[MigrationOperation], preserve_data: bool = True,
                              *, backup_tag: str | None = None) -> RollbackPlan:
        return self._rollback_plan(operations, [op.facts() for op in operations], preserve_data, backup_tag)

    def _rollback_plan(self, operations, facts, preserve_data: bool, backup_tag: str | None = None) -> RollbackPlan:
        """With ``preserve_data`` (the default) the data-changing statements are backed up within
        ``backup_max_bytes``; the catalog is read only when some statement changes data."""
        if not preserve_data or not any(f.destroys_data for f in facts):
            return build_rollback_plan(None, operations, facts, preserve_data=preserve_data, backup_tag=backup_tag,
                                       backup_max_bytes=self.backup_max_bytes)
        with self.connection.read_only() as conn:
            return build_rollback_plan(conn, operations, facts, preserve_data=True, backup_tag=backup_tag,
                                       backup_max_bytes=self.backup_max_bytes)

    def execute_atomic_migration(self, operations: list[MigrationOperation], *, preserve_data: bool = True,
                                 progress: Progress | None = None, lock: MigrationLock | Iterable | None = None,
                                 rollback_plan: RollbackPlan | None = None, journal_key: str | None = None,
                                 start_at: int = 0) -> MigrationResult:
        """``lock``: lock(s) already held by the caller; None takes the schemas' locks here.
        The result's ``rollback_plan`` (with its backups) undoes this execution.
        ``journal_key`` names this run in the target's journal (a new one if None);
        ``start_at`` resumes at that operation (the ones before committed in an earlier run)."""
        result = MigrationResult(mode="migration", journal_key=journal_key or uuid.uuid4().hex,
                                 start_at=start_at)
        lock = _held_list(lock)
        # While the SQL is parsed (the costliest client-side step), the server forks the executing
        # session and, when the caller already holds the locks, reads the digest on the lock
        # session: both only wait on the server, so they cost no parse time.
        opening = self._opening_session()
        early = None
        if lock and self.verify_digest:
            guess = sorted({op.schema for op in operations} | {held.schema for held in lock})
            early = _Background(lambda: (guess, lock[0].schema_digest(guess)))
        try:
            facts = [op.facts() for op in operations]  # read once; raises for a refused statement
            for op in operations:  # the statement policy on the rollback SQL too, whatever the rows say
                op.check_policy()
            plan = rollback_plan or self._rollback_plan(operations, facts, preserve_data)
        except Exception as exc:  # a parse or catalog error: nothing ran
            opening.discard()
            if early is not None:
                early.discard()
            return result.finish(error=f"cannot prepare the migration: {exc}")
        backups: dict[int, list] = {}
        for backup in (plan.backups if plan.preserve_data else []):
            backups.setdefault(backup.operation_index, []).append(backup)
        result.rollback_plan = plan
        return self._execute(operations, facts, backups, result, progress, lock, plan, opening=opening,
                             early_digest=early)

    def execute_rollback_plan(self, plan: RollbackPlan, *, progress: Progress | None = None,
                              lock: MigrationLock | Iterable | None = None,
                              journal_key: str | None = None) -> MigrationResult:
        """Runs the steps, checking restored rows against their backups before dropping them.
        ``schema_verified``: the digest equals ``plan.digest_before``; ``data_verification``: see
        ``rollback.verification``; ``verified`` only when both hold."""
        result = MigrationResult(mode="rollback", journal_key=journal_key or uuid.uuid4().hex)
        steps, checks = steps_with_data_checks(plan)
        operations = [MigrationOperation(type=f"ROLLBACK_{step.kind.upper()}", table_name="", sql=step.sql,
                                         schema=(plan.schemas or ["public"])[0], transactional=step.transactional,
                                         destroys_data=False, description=step.description)
                      for step in steps]
        if not operations:
            result.warnings.append("the rollback plan has no steps")
        facts = [StatementFacts(kind=op.type, transactional=bool(op.transactional), destroys_data=False)
                 for op in operations]
        try:  # a stored rollback plan is data: the statement policy judges it again before it runs
            for op in operations:
                check_sql_policy(op.sql)
        except (StatementRefused, StatementParseError) as exc:
            return result.finish(error=f"cannot prepare the rollback: {exc}")
        if not plan.fully_reversible:
            result.warnings.append("the plan is not fully reversible: "
                                   f"{len(plan.irreversible_operations)} operation(s) cannot be restored")
        self._objects_after = None
        self._execute(operations, facts, {}, result, progress, lock, plan, schemas=plan.schemas,
                      compensate=False, diff_reference=("before the migration", plan.objects_before))
        if plan.digest_before and result.digest_after:
            result.schema_verified = result.success and result.digest_after == plan.digest_before
            reordered = [] if result.schema_verified or not result.success else reordered_relations(
                plan.objects_before, getattr(self, "_objects_after", None))
            if reordered:
                result.schema_verified = True
                result.warnings.append(column_order_note(reordered))
        result.data_verification = data_verification(plan, result.statement_log, checks)
        result.data_verified = {"verified": True, "failed": False}.get(result.data_verification["status"])
        result.verified = bool(result.schema_verified and result.data_verification["status"] in DATA_OK)
        return result

    # -- execution ------------------------------------------------------------------------
    def _execute(self, operations, facts, backups, result: MigrationResult, progress, lock, plan,
                 schemas=None, compensate=True, opening: "_Background | None" = None,
                 early_digest: "_Background | None" = None,
                 diff_reference: tuple[str, dict | None] | None = None) -> MigrationResult:
        """``diff_reference``: (what it is, digest objects) the schema diff starts from instead of the
        digest before this run (a rollback: the schema before the migration it undoes)."""
        started = time.monotonic()
        self._emit = _emitter(progress, result)
        schemas = sorted(set(schemas or []) | {op.schema for op in operations}
                         | {d.schema for f in facts for d in f.destroyed}) or ["public"]
        result.schemas = schemas
        try:
            with ExitStack() as stack:
                # the executing session connects in the background while the lock is taken and the
                # digest read: it runs nothing before both are done
                opening = opening or self._opening_session()
                stack.callback(opening.discard)
                if early_digest is not None:
                    stack.callback(early_digest.discard)
                locks = self._locks(stack, lock, schemas, result)
                before = after = None
                if self.verify_digest and locks:  # on the idle lock session, while the other connects
                    before = self._digest_before(locks, schemas, early_digest)
                conn = stack.enter_context(self._connected(self._alive_or_new(opening.take()), result))
                for held in locks:
                    stack.callback(held.on_lost(_canceller(conn)))
                if self.verify_digest:
                    before = before or schema_digest(conn, schemas)
                    result.digest_before = before.digest
                    self._emit({"event": "digest_before", "digest": before.digest})
                    if plan is not None and result.mode == "migration":
                        plan.digest_before, plan.objects_before = before.digest, before.objects
                ensure_journal(conn)
                run = SegmentRun(self, conn, locks, result, backups, result.journal_key)
                completed = run.operations(operations, facts, phase=result.mode, start_at=result.start_at)
                if completed < len(operations) and compensate and completed > result.start_at:
                    result.rollback_executed = (run.compensate(operations, result.start_at, completed)
                                                or result.rollback_executed)
                if self.verify_digest and not any(h.lost for h in locks):
                    after = self._digest_after(locks, run.conn, schemas, result)
                    result.digest_after = after.digest if after else None
                    self._objects_after = after.objects if after else None
                if before is not None and after is not None:
                    _record_schema_diff(result, before, after, diff_reference)
        except MigrationLockLost as exc:
            result.lock_lost = True
            result.error_message = result.error_message or str(exc)
        except Exception as exc:  # lock timeout, connection refused: the message is safe to show
            result.error_message = result.error_message or f"{type(exc).__name__}: {exc}"
            result.error_type = result.error_type or type(exc).__name__
        result.execution_time_ms = round((time.monotonic() - started) * 1000, 3)
        result.finish()
        self._emit({"event": "finished", "success": result.success, "rollback_executed": result.rollback_executed})
        return result

    @staticmethod
    def _digest_before(locks, schemas, early: "_Background | None") -> SchemaDigest:
        """The digest read while the SQL was parsed counts only if it covered exactly these
        schemas (the caller's locks and the operations' schemas; a statement destroying data in
        yet another schema widens them); an error there stops the run as it would here."""
        if early is not None:
            covered, digest = early.take()
            if covered == schemas:
                return digest
        return locks[0].schema_digest(schemas)

    def _digest_after(self, locks, conn: psycopg.Connection, schemas, result: MigrationResult) -> SchemaDigest | None:
        """Read on the lock session, whose catalog caches the digest before warmed (the DDL just
        run invalidates only the touched entries). A lock lost after the last COMMIT leaves the
        digest unknown, as a lost executing session does. The whole-database snapshot is a
        convenience for the drift ledger: if it cannot be read, the touched schemas' digest is read
        alone (the ledger then reads its own snapshot or says why it has none)."""
        if locks:
            try:
                if self.snapshot_after:
                    try:
                        after, result.snapshot_after = locks[0].digest_and_snapshot(schemas)
                        return after
                    except SchemaDigestError as exc:
                        if any(held.lost for held in locks):
                            raise
                        result.warnings.append(f"the whole-database snapshot could not be read after the run: {exc}")
                return locks[0].schema_digest(schemas)
            except MigrationLockLost:
                return None
        if conn.closed:
            return None
        if self.snapshot_after:
            try:
                after, result.snapshot_after = digest_and_snapshot(conn, schemas)
                return after
            except SchemaDigestError as exc:
                result.warnings.append(f"the whole-database snapshot could not be read after the run: {exc}")
        return schema_digest(conn, schemas)

    def _locks(self, stack: ExitStack, lock, schemas, result) -> list[MigrationLock]:
        if lock is not None:
            locks = [lock] if isinstance(lock, MigrationLock) else list(lock)
        else:  # sorted schema order: two multi-schema migrations cannot deadlock on each other
            locks = [stack.enter_context(self.lock_manager.migration_lock(s, timeout=self.lock_wait_seconds))
                     for s in schemas]
        result.lock_holder = ", ".join(f"{held.schema}: {held.holder_process_id}" for held in locks)
        for held in locks:
            held.ensure_held()
        return locks

    def _connect(self, result: MigrationResult) -> psycopg.Connection:
        return self._connected(self._open_session(), result)

    def _connected(self, conn: psycopg.Connection, result: MigrationResult) -> psycopg.Connection:
        # emitted from the calling thread: the app's progress sink writes through Django
        self.backend_pid = result.backend_pid = conn.info.backend_pid
        self._emit({"event": "connected", "backend_pid": conn.info.backend_pid})
        return conn

    def _open_session(self) -> psycopg.Connection:
        """A new executing session with its guards set, in one round trip after the connect."""
        conn = self.connection.connect(autocommit=True, application_name=self.application_name)
        try:
            conn.execute(query("exec_session_settings"), {
                "lock_timeout": f"{int(self.lock_timeout_ms)}ms",
                "statement_timeout": f"{int(self.statement_timeout_ms)}ms",
                "idle_timeout": f"{int(self.idle_in_transaction_timeout_ms)}ms",
                "search_path": _search_path(conn, self.search_path),
                "client_check": "1s" if conn.info.server_version >= 140000 else None})
        except BaseException:
            conn.close()
            raise
        return conn

    def _backoff(self, attempt: int) -> float:
        cap = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        return cap * random.uniform(0.5, 1.0)


class _Background:
    """Runs ``work`` on a helper thread; ``take`` waits for its value (re-raising its error),
    ``discard`` waits and hands a value nobody took to ``discard`` (closing an unused session)."""

    def __init__(self, work: Callable[[], object], discard: Callable[[object], None] | None = None):
        self._value = None
        self._error: BaseException | None = None
        self._taken = False
        self._on_discard = discard
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True, name="dataflow-executor-prep")
        self._thread.start()

    def _run(self, work) -> None:
        try:
            self._value = work()
        except BaseException as exc:  # handed to the caller by take()
            self._error = exc

    def take(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._taken = True
        return self._value

    def discard(self) -> None:
        self._thread.join()
        if not self._taken and self._value is not None and self._on_discard is not None:
            self._taken = True
            self._on_discard(self._value)


def _held_list(lock) -> list[MigrationLock] | None:
    """The caller's lock(s) as a list (an iterable is read once), or None to take them here."""
    if lock is None:
        return None
    return [lock] if isinstance(lock, MigrationLock) else list(lock)


def _search_path(conn: psycopg.Connection, schema: str | None) -> str | None:
    if not schema:
        return None
    quoted = sql.Identifier(schema).as_string(conn)
    return quoted if schema == "public" else f"{quoted}, public"


def _emitter(progress: Progress | None, result: MigrationResult) -> Progress:
    def emit(event: dict) -> None:
        if progress is None:
            return
        try:
            progress(event)
        except Exception as exc:  # a broken progress sink must not break the migration
            result.warnings.append(f"progress callback failed: {type(exc).__name__}: {exc}")
    return emit


def _canceller(conn: psycopg.Connection) -> Callable[[], None]:
    def cancel() -> None:
        try:
            conn.cancel_safe(timeout=5)
        except Exception:
            pass
    return cancel



def _record_schema_diff(result: MigrationResult, before: SchemaDigest, after: SchemaDigest,
                        reference: tuple[str, dict | None] | None) -> None:
    # built from the digests already read on the lock session: no extra catalog round trip
    label, objects = reference if reference and reference[1] is not None else ("before this run", before.objects)
    result.schema_diff = diff_objects(objects, after.objects).to_dict()
    result.schema_diff_reference = label
