"""Which locks a statement actually held: pg_locks sampled from a second session.

A thread polls ``pg_locks`` for the executing backend every ``interval_seconds`` (20 ms by
default) while a statement runs, and the rehearsal also samples synchronously just before and
just after each statement. The synchronous samples matter for short statements: inside a
transaction every lock is kept until COMMIT, so the sample taken right after the statement
returns shows what it took even when it ran for a millisecond. Statements that run in
autocommit (CREATE INDEX CONCURRENTLY) release their locks on return, so for them only the
polling thread can see anything, and only if they run longer than one interval.

Per relation the strongest mode seen wins. pg_locks has one row per (relation, mode), so a
mode that was not in the sample taken before the statement started is one this statement
acquired; the others were inherited from earlier statements of the same transaction.
"""

from __future__ import annotations

import dataclasses
import threading

import psycopg
from psycopg.rows import dict_row

from migrations_app.engines.catalog import query
from migrations_app.engines.statements.pg_facts import LOCK_MODES
from targets.engines.connections import TargetConnection

# pg_locks spells each mode in CamelCase with a Lock suffix (ACCESS EXCLUSIVE -> AccessExclusiveLock);
# same order as LOCK_MODES, weakest first.
MODE_NAMES = {"".join(word.title() for word in mode.split()) + "Lock": mode for mode in LOCK_MODES}
RANK = {name: rank for rank, name in enumerate(MODE_NAMES)}


def strongest(modes) -> str | None:
    """The strongest of pg_locks mode names (``AccessExclusiveLock``), or None."""
    known = [m for m in modes if m in RANK]
    return max(known, key=RANK.__getitem__) if known else None


def sql_mode(mode: str | None) -> str | None:
    """``AccessExclusiveLock`` -> ``ACCESS EXCLUSIVE`` (how the documentation and lint name it)."""
    return MODE_NAMES.get(mode, mode) if mode else None


class LockSamplerError(RuntimeError):
    pass


@dataclasses.dataclass
class RelationLock:
    oid: int
    relation: str | None          # schema.name, None for a relation the transaction just created
    relkind: str | None
    mode: str                     # strongest pg_locks mode seen while the statement ran
    acquired_mode: str | None     # strongest mode not already held when the statement started
    waited: bool = False          # seen not granted at least once (queued behind another session)

    @property
    def acquired(self) -> bool:
        return self.acquired_mode is not None

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["mode_sql"] = sql_mode(self.mode)
        data["acquired"] = self.acquired
        return data


@dataclasses.dataclass
class StatementLocks:
    relations: list[RelationLock]
    samples: int

    def mode_on(self, oid: int) -> str | None:
        return next((r.mode for r in self.relations if r.oid == oid), None)


class LockSampler:
    """``with LockSampler(connection) as sampler: sampler.watch(pid); sampler.begin(); ...; sampler.end()``."""

    def __init__(self, connection: TargetConnection, *, interval_seconds: float = 0.02):
        self.connection = connection
        self.interval_seconds = interval_seconds
        self._conn: psycopg.Connection | None = None
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._window: dict[int, dict] | None = None     # oid -> {"modes", "relation", "relkind", "waited"}
        self._baseline: dict[int, set[str]] = {}
        self._samples = 0
        self.error: str | None = None

    def __enter__(self) -> "LockSampler":
        self._conn = self.connection.connect(autocommit=True, application_name="dataflow-rehearsal-sampler")
        self._thread = threading.Thread(target=self._poll, name="rehearsal-lock-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._conn is not None:
            self._conn.close()

    def watch(self, pid: int) -> None:
        with self._mutex:
            self._pid = pid

    def begin(self) -> None:
        """Just before a statement: what is already held is inherited, then start the window."""
        with self._mutex:
            rows = self._sample()
            self._baseline = {}
            for row in rows:
                if row["granted"]:
                    self._baseline.setdefault(row["oid"], set()).add(row["mode"])
            self._window, self._samples = {}, 0

    def end(self) -> StatementLocks:
        """Just after the statement: one last sample, then the window's strongest modes."""
        with self._mutex:
            if self._window is not None:
                self._merge(self._sample())
            window, self._window = self._window or {}, None
            samples = self._samples
        relations = []
        for oid, seen in sorted(window.items()):
            mode = strongest(seen["modes"])
            if mode is None:
                continue
            acquired = strongest(seen["modes"] - self._baseline.get(oid, set()))
            relations.append(RelationLock(oid, seen["relation"], seen["relkind"], mode, acquired, seen["waited"]))
        return StatementLocks(relations, samples)

    # -- internals ---------------------------------------------------------------------------
    def _poll(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            with self._mutex:
                if self._window is None or self._pid is None:
                    continue
                try:
                    self._merge(self._sample())
                except LockSamplerError as exc:
                    self.error = str(exc)
                    return

    def _sample(self) -> list[dict]:
        """Caller holds the mutex (one psycopg connection, two threads)."""
        if self._pid is None or self._conn is None:
            return []
        try:
            rows = self._conn.cursor(row_factory=dict_row).execute(
                query("rehearsal_locks"), {"pid": self._pid}).fetchall()
        except psycopg.Error as exc:
            raise LockSamplerError(f"cannot read pg_locks: {exc}") from exc
        self._samples += 1
        return rows

    def _merge(self, rows: list[dict]) -> None:
        for row in rows:
            seen = self._window.setdefault(row["oid"], {"modes": set(), "relation": None, "relkind": None,
                                                        "waited": False})
            if row["relation_name"] is not None:
                seen["relation"] = f"{row['schema_name']}.{row['relation_name']}"
                seen["relkind"] = row["relkind"]
            if row["granted"]:
                seen["modes"].add(row["mode"])
            else:
                seen["waited"] = True
