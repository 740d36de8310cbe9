"""The executor's progress callback, writing live state onto the Execution row.

The plan page polls the row, so each event saves only the fields it changes (update_fields),
never the whole row: an emergency stop written by a web request meanwhile is not overwritten.
The engine swallows exceptions raised here, so a failing write never breaks a migration.
"""

from __future__ import annotations

import time
from typing import Callable

from django.db import DatabaseError, connection
from django.utils import timezone

from migrations_app.models import Execution


class ProgressRecorder:
    # The page polls once a second: writing both events of every statement of a 200-statement
    # plan would be ~400 row updates of a growing JSON log. A finished statement is written at
    # most this often (otherwise with the next statement's start, which is always written so a
    # long statement shows as running); the final log comes from the engine's result. The stop
    # flag is read at most this often too.
    MIN_INTERVAL_SECONDS = 0.25

    def __init__(self, execution: Execution, operations=None, on_stop: Callable[[], object] | None = None):
        self.execution = execution
        self._last_save = 0.0
        self._last_stop_check = 0.0
        self._pending: set[str] = set()
        self.operations = operations
        self.on_stop = on_stop
        self.stopping = False
        self.log: list[dict] = []
        self.done = 0
        execution.statement_log = self.log
        execution.progress = {**execution.progress, "done": 0, "current": None, "phase": execution.kind}

    def __call__(self, event: dict) -> None:
        kind = event.get("event")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            try:
                handler(event)
            except DatabaseError:
                # the app-database session was lost: the next event reconnects instead of every
                # later write failing on the dead connection (the target's journal stays the truth)
                if not connection.in_atomic_block:
                    connection.close()
                raise

    def _save(self, *fields: str, throttle: bool = False) -> None:
        now = time.monotonic()
        self._pending.update(fields)
        if throttle and now - self._last_save < self.MIN_INTERVAL_SECONDS:
            return
        self.execution.heartbeat_at = timezone.now()
        self.execution.save(update_fields=[*sorted(self._pending), "heartbeat_at"])
        self._pending.clear()
        self._last_save = now

    # -- events -----------------------------------------------------------------------------
    def _on_connected(self, event: dict) -> None:
        self.execution.backend_pid = event["backend_pid"]
        self._save("backend_pid")

    def _on_attempt_started(self, event: dict) -> None:
        self._check_stop()
        self.execution.progress = {**self.execution.progress, "attempt": event.get("attempt"),
                                   "segment": event.get("segment")}
        if event.get("backend_pid"):
            self.execution.backend_pid = event["backend_pid"]
        self._save("progress", "backend_pid")

    def _on_statement_started(self, event: dict) -> None:
        self._check_stop()
        index, phase = event.get("index"), event.get("phase")
        self.log.append({"sequence": event.get("sequence"), "operation_index": index, "phase": phase,
                         "attempt": event.get("attempt"), "sql": self._sql(index, phase), "status": "running",
                         "started_at": timezone.now().isoformat(timespec="milliseconds")})
        self.execution.progress = {**self.execution.progress, "current": index, "phase": phase}
        self._save("statement_log", "progress")  # always: a long statement must show as running

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
        self.execution.progress = {**self.execution.progress, "committed_txid": event.get("txid")}
        self._save("progress")

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
