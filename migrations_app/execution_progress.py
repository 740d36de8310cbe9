"""The executor's progress callback, writing live state onto the Execution row.

The plan page polls the row, so each event saves only the fields it changes (update_fields),
never the whole row: an emergency stop written by a web request meanwhile is not overwritten.
The engine swallows exceptions raised here, so a failing write never breaks a migration.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from django.db import DatabaseError, connection
from django.utils import timezone

from migrations_app.models import Execution

logger = logging.getLogger(__name__)


class ProgressRecorder:
    # The page polls once a second. Writing every statement's start (the whole growing JSON log,
    # one commit each) made a 200-statement plan cost five times what ``psql -1 -f`` does, so a
    # statement's start and finish are written at most this often; a statement still running
    # after this long is written by a background flusher (its own app-database session), so a
    # long statement shows as running within this interval. The session, the digest before and a
    # new attempt's backend are written at once: an emergency stop and a recovery need them
    # before anything runs. The final log comes from the engine's result. The stop flag is read at
    # most this often too.
    MIN_INTERVAL_SECONDS = 0.25

    def __init__(self, execution: Execution, operations=None, on_stop: Callable[[], object] | None = None,
                 background: bool | None = None):
        """``background``: flush deferred writes from a thread (default: unless the caller is inside
        a transaction, which another session's write to the same row would wait on)."""
        self.execution = execution
        self._last_save = time.monotonic()  # the claim and the lock were just written
        self._last_stop_check = 0.0
        self._pending: set[str] = set()
        self.operations = operations
        self.on_stop = on_stop
        self.stopping = False
        self.log: list[dict] = []
        self.done = 0
        execution.statement_log = self.log
        execution.progress = {**execution.progress, "done": 0, "current": None, "phase": execution.kind}
        self._state = threading.Condition(threading.RLock())
        self._closed = False
        self._written_pid = None
        self._flusher = None
        if background if background is not None else not connection.in_atomic_block:
            self._flusher = threading.Thread(target=self._flush_in_background, daemon=True,
                                             name=f"progress-{execution.pk}")
            self._flusher.start()

    def __call__(self, event: dict) -> None:
        kind = event.get("event")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            try:
                with self._state:
                    handler(event)
            except DatabaseError:
                # the app-database session was lost: the next event reconnects instead of every
                # later write failing on the dead connection (the target's journal stays the truth)
                if not connection.in_atomic_block:
                    connection.close()
                raise

    def close(self, *, flush: bool = False) -> None:
        """Stops the flusher (before the finish writes the final row: no late write may follow
        it). ``flush``: write what is pending now (a run that ended without a result)."""
        with self._state:
            self._closed = True
            self._state.notify_all()
        if self._flusher is not None:
            self._flusher.join()
        if flush and self._pending:
            with self._state:
                self._write()

    def _save(self, *fields: str, throttle: bool = False) -> None:
        was_clean = not self._pending
        self._pending.update(fields)
        if throttle and time.monotonic() - self._last_save < self.MIN_INTERVAL_SECONDS:
            if was_clean:  # the flusher sleeps until something is pending; else it already waits for the due time
                self._state.notify_all()
            return
        self._write()

    def _write(self) -> None:
        self.execution.heartbeat_at = timezone.now()
        self.execution.save(update_fields=[*sorted(self._pending), "heartbeat_at"])
        if "backend_pid" in self._pending:
            self._written_pid = self.execution.backend_pid
        self._pending.clear()
        self._last_save = time.monotonic()

    def _flush_in_background(self) -> None:
        try:
            with self._state:
                while not self._closed:
                    due = self._last_save + self.MIN_INTERVAL_SECONDS - time.monotonic()
                    if self._pending and due <= 0:
                        try:
                            self._write()
                        except Exception:  # noqa: BLE001 -- the flusher must outlive a failed write
                            # a lost session: a new one at the next write; the finish writes the truth
                            logger.warning("progress write for execution %s failed", self.execution.pk, exc_info=True)
                            connection.close()
                            self._last_save = time.monotonic()
                        continue
                    self._state.wait(due if self._pending else None)
        finally:
            connection.close()  # this thread's own app-database session

    # -- events -----------------------------------------------------------------------------
    def _on_connected(self, event: dict) -> None:
        # written with the digest before (the next event), or by the flusher: before any statement
        self.execution.backend_pid = event["backend_pid"]
        self._save("backend_pid", throttle=True)

    def _on_digest_before(self, event: dict) -> None:
        # written before any statement runs: a run cut short (kill -9) still has it for recovery
        self.execution.digest_before = event["digest"]
        self._save("digest_before")

    def _on_attempt_started(self, event: dict) -> None:
        self._check_stop()
        self.execution.progress = {**self.execution.progress, "attempt": event.get("attempt"),
                                   "segment": event.get("segment")}
        if event.get("backend_pid"):
            self.execution.backend_pid = event["backend_pid"]
        # a new session (a retry after a lost connection) is written at once: a stop cancels it
        self._save("progress", "backend_pid", throttle=self.execution.backend_pid == self._written_pid)

    def _on_statement_started(self, event: dict) -> None:
        self._check_stop()
        index, phase = event.get("index"), event.get("phase")
        self.log.append({"sequence": event.get("sequence"), "operation_index": index, "phase": phase,
                         "attempt": event.get("attempt"), "sql": self._sql(index, phase), "status": "running",
                         "started_at": timezone.now().isoformat(timespec="milliseconds")})
        self.execution.progress = {**self.execution.progress, "current": index, "phase": phase}
        self._save("statement_log", "progress", throttle=True)  # a long one: written by the flusher

    def _on_statement_finished(self, event: dict) -> None:
        entry = self._entry(event)
        if entry is not None:
            entry.update(status="ok", duration_ms=event.get("duration_ms"), rows=event.get("rows"))
            if entry["phase"] == self.execution.kind:
                self.done += 1
        self.execution.progress = {**self.execution.progress, "done": self.done}
        self._save("statement_log", "progress", throttle=True)

    def _on_statement_failed(self, event: dict) -> None:
        entry = self._entry(event)
        if entry is not None:
            entry.update(status="failed", duration_ms=event.get("duration_ms"), sqlstate=event.get("sqlstate"))
        self._save("statement_log")

    def _on_retry(self, event: dict) -> None:
        self.log.append({"sequence": None, "phase": "retry", "status": "retry", "sqlstate": event.get("sqlstate"),
                         "sql": f"attempt {event.get('attempt')} hit {event.get('sqlstate')}: retrying the "
                                f"transaction in {event.get('backoff_seconds')} s"})
        self._save("statement_log")

    def _on_compensation_started(self, event: dict) -> None:
        self.execution.progress = {**self.execution.progress, "phase": "compensation"}
        self._save("progress")

    def _on_committed(self, event: dict) -> None:
        # shown on the page; the target's journal, not this row, is what recovery reads
        self.execution.progress = {**self.execution.progress, "committed_txid": event.get("txid")}
        self._save("progress", throttle=True)

    # -- helpers ----------------------------------------------------------------------------
    def _entry(self, event: dict) -> dict | None:
        sequence = event.get("sequence")
        return next((e for e in reversed(self.log) if e.get("sequence") == sequence), None)

    def _sql(self, index, phase) -> str:
        if self.operations is not None and phase in ("migration", "compensation") and index is not None:
            op = self.operations[index] if phase == "migration" and index < len(self.operations) else None
            if op is not None:
                return op.sql
        return f"({phase} step {index})"

    def _check_stop(self) -> None:
        """An emergency stop requested while no statement ran (a cancel lands on an idle session
        and is ignored by PostgreSQL): give up the migration lock, which the engine treats as
        "stop now" -- the open transaction is rolled back before COMMIT and nothing else runs."""
        if self.stopping or self.on_stop is None:
            return
        now = time.monotonic()
        if now - self._last_stop_check < self.MIN_INTERVAL_SECONDS:
            return
        self._last_stop_check = now
        if Execution.objects.filter(pk=self.execution.pk, stop_requested_at__isnull=False).exists():
            self.stopping = True
            self.on_stop()
