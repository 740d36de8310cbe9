"""Migration lock (runbook: Concurrent Access Manager, ``MigrationLockManager``).

One migration per target database + schema at a time. The lock is a *session* advisory lock
held by a dedicated direct connection that stays idle outside any transaction, so:

- a killed worker loses its lock the moment its socket closes (no 30-second lease to expire,
  no stuck lock row as with Liquibase's table);
- the executing connection never holds it, so ``CREATE INDEX CONCURRENTLY`` (which waits for
  every transaction older than itself) cannot deadlock against it, unlike Flyway's.

A row in ``dataflow_migration_locks`` shows who holds the lock and since when; a heartbeat
thread renews ``expires_at``. The row is informational: the advisory lock is the truth, and a
row whose holder no longer holds the advisory lock is *stale*. A lost lock connection is never
re-opened: the migration must stop (``MigrationLock.ensure_held`` raises, and the callbacks
registered with ``on_lost`` cancel the running statement).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import select
import socket
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from typing import Callable, Iterator

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from migrations_app.engines.catalog import query
from migrations_app.engines.execution.digest import SchemaDigest, SchemaDigestError, digest_and_snapshot, schema_digest
from targets.engines.connections import TargetConnection

LOCK_TABLE = "dataflow_migration_locks"
FALLBACK_LOCK_SCHEMA = "dataflow"
DEFAULT_LEASE_SECONDS = 60
DEFAULT_HEARTBEAT_SECONDS = 2.0
_SETUP_KEY_TEXT = "dataflow-migration-lock-table-setup"


class MigrationLockError(Exception):
    """Base class; messages are safe to show."""


class MigrationLockTimeout(MigrationLockError):
    def __init__(self, schema: str, timeout: float, status: "LockStatus"):
        self.schema = schema
        self.timeout = timeout
        self.status = status
        super().__init__(f"Failed to acquire migration lock on schema {schema!r} within {timeout:g}s: "
                         f"held by {status.describe_holder()}")


class MigrationLockLost(MigrationLockError):
    """The lock connection died: the migration must stop (it is never re-acquired silently)."""


def lock_key(dbname: str, schema: str) -> int:
    """A stable signed bigint from database + schema (same in every process and release)."""
    digest = hashlib.sha256(f"dataflow-migration-lock:{dbname}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _key_params(key: int) -> dict:
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return {"key": key, "classid": unsigned >> 32, "objid": unsigned & 0xFFFFFFFF}


@dataclasses.dataclass
class LockStatus:
    schema_name: str
    is_locked: bool
    holder_process_id: str | None = None
    acquired_at: datetime | None = None
    expires_at: datetime | None = None
    holder_alive: bool = False
    holder_backend_pid: int | None = None
    lock_data: dict = dataclasses.field(default_factory=dict)
    stale: bool = False

    def describe_holder(self) -> str:
        if self.holder_process_id:
            owner = self.lock_data.get("owner")
            since = self.acquired_at.isoformat(timespec="seconds") if self.acquired_at else "?"
            who = f"{owner} ({self.holder_process_id})" if owner else self.holder_process_id
            return f"{who}, backend pid {self.holder_backend_pid}, since {since}"
        if self.holder_backend_pid:
            return f"backend pid {self.holder_backend_pid} (no lock row yet)"
        return "nobody (released meanwhile)"

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        for name in ("acquired_at", "expires_at"):
            data[name] = data[name].isoformat() if data[name] else None
        return data


class MigrationLock:
    """A held lock. Thread-safe: the heartbeat and the executor share the lock connection."""

    def __init__(self, *, schema: str, key: int, conn: psycopg.Connection, lock_table: sql.Composable,
                 holder_process_id: str, owner: str, acquired_at: datetime, expires_at: datetime,
                 lease_seconds: int, heartbeat_seconds: float):
        self.schema = schema
        self.key = key
        self.holder_process_id = holder_process_id
        self.owner = owner
        self.acquired_at = acquired_at
        self.expires_at = expires_at
        self.backend_pid = conn.info.backend_pid
        self._conn = conn
        self._table = lock_table
        self._lease = lease_seconds
        self._io = threading.Lock()
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self.lost_reason = ""
        self._heartbeat = threading.Thread(target=self._beat, args=(heartbeat_seconds,),
                                           name=f"dataflow-lock-heartbeat-{schema}", daemon=True)
        self._heartbeat.start()

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def on_lost(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` (from the heartbeat thread) when the lock is lost. Returns an unregister."""
        self._callbacks.append(callback)
        if self.lost:
            callback()
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def ensure_held(self) -> None:
        """Cheap check before each statement: no round trip. An idle connection's socket only
        becomes readable when the server ends the session (FATAL + close)."""
        if not self.lost:
            with self._io:
                if self._conn.closed or select.select([self._conn.fileno()], [], [], 0)[0]:
                    self._mark_lost("the lock connection was closed by the server")
        if self.lost:
            raise MigrationLockLost(f"migration lock on schema {self.schema!r} lost: {self.lost_reason}")

    def verify_held(self) -> None:
        """A real round trip (before COMMIT): the lock connection is alive and holds the lock."""
        self.ensure_held()
        try:
            with self._io:
                held = self._conn.execute(query("lock_verify_held"), _key_params(self.key)).fetchone()[0]
        except psycopg.Error as exc:
            self._mark_lost(f"lock connection error: {type(exc).__name__}")
            held = False
        if not held:
            self._mark_lost(self.lost_reason or "the advisory lock is no longer held")
            raise MigrationLockLost(f"migration lock on schema {self.schema!r} lost: {self.lost_reason}")

    def schema_digest(self, schemas) -> SchemaDigest:
        """The schema digest read on the lock session: it is idle (autocommit) between calls, so
        the executor reads it here while its own session is still connecting. A failure of the
        lock session here is a lost lock, as anywhere else."""
        return self._read_catalog(lambda: schema_digest(self._conn, schemas, prepare=True))

    def digest_and_snapshot(self, schemas) -> tuple[SchemaDigest, SchemaDigest]:
        """``digest.digest_and_snapshot`` on the lock session (after a migration, still held)."""
        return self._read_catalog(lambda: digest_and_snapshot(self._conn, schemas, prepare=True))

    def _read_catalog(self, read):
        self.ensure_held()
        try:
            with self._io:
                return read()
        except SchemaDigestError:
            if self._conn.closed or self._conn.broken:
                self._mark_lost("the lock connection failed during the schema digest")
                self.ensure_held()
            raise

    def _beat(self, interval: float) -> None:
        params = {"schema": self.schema, "holder": self.holder_process_id, "lease_seconds": self._lease}
        statement = sql.SQL(query("lock_heartbeat")).format(lock_table=self._table)
        while not self._stop.wait(interval):
            try:
                with self._io:
                    row = self._conn.execute(statement, params).fetchone()
                if row:
                    self.expires_at = row[0]
            except psycopg.Error as exc:
                self._mark_lost(f"heartbeat failed: {type(exc).__name__}")
                return

    def _mark_lost(self, reason: str) -> None:
        if self._lost.is_set():
            return
        self.lost_reason = reason
        self._lost.set()
        self._stop.set()
        try:  # never reconnect: the session (and the lock) is gone for good
            self._conn.close()
        except Exception:
            pass
        for callback in list(self._callbacks):
            try:
                callback()
            except Exception:  # a failing canceller must not hide the loss from the others
                pass

    def release(self) -> bool:
        """Delete the row, unlock, close. Returns False when the lock had already been lost."""
        self._stop.set()
        if self._heartbeat is not threading.current_thread():
            self._heartbeat.join(timeout=5)
        if self.lost:
            return False
        try:
            with self._io, self._conn.pipeline():  # one round trip for both
                self._conn.execute(sql.SQL(query("lock_delete_row")).format(lock_table=self._table),
                                   {"schema": self.schema, "holder": self.holder_process_id})
                self._conn.execute(query("lock_unlock_advisory"), {"key": self.key})
            return True
        except psycopg.Error:
            return False  # the session ended meanwhile: the server released the lock
        finally:
            self._conn.close()


class MigrationLockManager:
    def __init__(self, connection: TargetConnection, *, lease_seconds: int = DEFAULT_LEASE_SECONDS,
                 heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS, owner: str = ""):
        self.connection = connection
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self._held: dict[str, MigrationLock] = {}
        self._lock_schema: str | None = None

    # -- the runbook API ------------------------------------------------------------------
    @contextmanager
    def migration_lock(self, schema: str, timeout: float = 30, **kwargs) -> Iterator[MigrationLock]:
        lock = self.acquire_migration_lock(schema, timeout, **kwargs)
        try:
            yield lock
        finally:
            self.release_migration_lock(schema)

    def acquire_migration_lock(self, schema: str, timeout: float = 30, *, owner: str | None = None,
                               lock_data: dict | None = None) -> MigrationLock:
        if schema in self._held:
            raise MigrationLockError(f"this manager already holds the lock on schema {schema!r}")
        key = lock_key(self.connection.dbname, schema)
        # The row is informational (the advisory lock is the truth, a stale row is overwritten or
        # cleaned up), so its writes need not wait for a WAL flush: on a busy disk that wait was
        # most of the acquire and release time.
        # The executor reads its schema digests on this session, before and after the migration:
        # with generic plans its prepared digest queries are planned once, not twice.
        conn = self.connection.connect(autocommit=True, application_name=f"dataflow-lock {schema}"[:63],
                                       extra_options="-c synchronous_commit=off -c plan_cache_mode=force_generic_plan")
        try:
            table = self._ensure_lock_table(conn)
            self._poll(conn, schema, key, timeout)
            holder = f"{socket.gethostname()}:{os.getpid()}:{conn.info.backend_pid}"
            data = {"owner": owner or self.owner, "hostname": socket.gethostname(), "os_pid": os.getpid(),
                    "backend_pid": conn.info.backend_pid, "database": self.connection.dbname,
                    "lock_key": key, **(lock_data or {})}
            acquired_at, expires_at = conn.execute(
                sql.SQL(query("lock_upsert_row")).format(lock_table=table),
                {"schema": schema, "holder": holder, "lease_seconds": self.lease_seconds,
                 "lock_data": Jsonb(data)}).fetchone()
        except BaseException:
            conn.close()  # closing the session also drops an advisory lock taken above
            raise
        lock = MigrationLock(schema=schema, key=key, conn=conn, lock_table=table, holder_process_id=holder,
                             owner=data["owner"], acquired_at=acquired_at, expires_at=expires_at,
                             lease_seconds=self.lease_seconds, heartbeat_seconds=self.heartbeat_seconds)
        self._held[schema] = lock
        return lock

    def release_migration_lock(self, schema: str) -> bool:
        lock = self._held.pop(schema, None)
        return lock.release() if lock else False

    def check_lock_status(self, schema: str) -> LockStatus:
        key = lock_key(self.connection.dbname, schema)
        with self.connection.read_only() as conn:
            return self._status(conn, schema, key)

    def force_cleanup_stale_locks(self) -> list[str]:
        """Delete rows whose holder no longer holds the advisory lock; live holders keep theirs."""
        removed: list[str] = []
        with self.connection.connect(autocommit=True) as conn:
            table = self._existing_lock_table(conn)
            if table is None:
                return removed
            schemas = [row[0] for row in conn.execute(sql.SQL(query("lock_rows")).format(lock_table=table))]
            for schema in schemas:
                params = {"schema": schema, **_key_params(lock_key(self.connection.dbname, schema))}
                statement = sql.SQL(query("lock_delete_if_stale")).format(lock_table=table)
                removed += [row[0] for row in conn.execute(statement, params)]
        return removed

    # -- internals ------------------------------------------------------------------------
    def _poll(self, conn: psycopg.Connection, schema: str, key: int, timeout: float) -> None:
        deadline = time.monotonic() + max(timeout, 0)
        delay = 0.05
        while True:
            if conn.execute(query("lock_try_advisory"), {"key": key}).fetchone()[0]:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MigrationLockTimeout(schema, timeout, self._status(conn, schema, key))
            # jitter so that waiting workers do not poll in lock-step
            time.sleep(min(remaining, delay * random.uniform(0.5, 1.0)))
            delay = min(delay * 2, 1.0)

    def _location(self, conn: psycopg.Connection) -> tuple[str, bool]:
        public_table, dataflow_table, can_public = conn.execute(query("lock_table_location")).fetchone()
        if public_table:
            return "public", True
        if dataflow_table:
            return FALLBACK_LOCK_SCHEMA, True
        return ("public" if can_public else FALLBACK_LOCK_SCHEMA), False

    def _existing_lock_table(self, conn: psycopg.Connection) -> sql.Composable | None:
        schema, exists = self._location(conn)
        return sql.Identifier(schema, LOCK_TABLE) if exists else None

    def _ensure_lock_table(self, conn: psycopg.Connection) -> sql.Composable:
        if self._lock_schema is None:
            schema, exists = self._location(conn)
            if not exists:
                # CREATE TABLE IF NOT EXISTS is not safe against a concurrent creator (duplicate
                # pg_type row), so creators queue on a transaction-scoped advisory lock.
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(_SETUP_KEY_TEXT, "")])
                    if schema == FALLBACK_LOCK_SCHEMA:
                        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
                    conn.execute(sql.SQL(query("lock_create_table")).format(lock_schema=sql.Identifier(schema)))
            self._lock_schema = schema
        return sql.Identifier(self._lock_schema, LOCK_TABLE)

    def _status(self, conn: psycopg.Connection, schema: str, key: int) -> LockStatus:
        cur = conn.cursor(row_factory=dict_row)
        holder = cur.execute(query("lock_holder"), _key_params(key)).fetchone()
        table = self._existing_lock_table(conn)
        row = None
        if table is not None:
            row = cur.execute(sql.SQL(query("lock_row")).format(lock_table=table), {"schema": schema}).fetchone()
        status = LockStatus(schema_name=schema, is_locked=holder is not None,
                            holder_backend_pid=holder["backend_pid"] if holder else None)
        if row:
            data = row["lock_data"] if isinstance(row["lock_data"], dict) else json.loads(row["lock_data"] or "{}")
            status.holder_process_id = row["holder_process_id"]
            status.acquired_at = row["acquired_at"]
            status.expires_at = row["expires_at"]
            status.lock_data = data
            status.holder_alive = holder is not None and holder["backend_pid"] == data.get("backend_pid")
            status.stale = holder is None
        else:
            status.holder_alive = holder is not None
        return status
