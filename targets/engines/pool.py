"""Pooled read-only sessions on target databases, for the catalog analyses.

A new session costs more than the analysis it serves: the server forks a backend, and the
backend fills its catalog caches and parses and plans the ~26 kB dependency query from
nothing (issue #15 measured 45 ms against a 7.8 ms connect-and-lookup). ``pooled_read_only``
keeps a few idle sessions per target in this process, so a worker's later analyses of the
same target reuse a backend whose caches are warm and whose catalog queries are already
prepared, with the generic plan built once:

- sessions are the same read-only, statement-timeout sessions ``TargetConnection.read_only``
  opens, plus ``plan_cache_mode=force_generic_plan`` in the startup packet (no round trip:
  the first execution of a prepared query builds the plan every later one reuses, where
  PostgreSQL would otherwise plan it five more times), and psycopg prepares every query
  on its first execution (``prepare_threshold = 0``);
- a session goes back to the pool only clean: its transaction rolled back and ``RESET
  ALL`` (back to the values of the startup packet), ``CLOSE ALL``, ``UNLISTEN *``, advisory
  locks released, temporary tables discarded (one simple-query round trip), and psycopg's
  own settings restored; a session that cannot be reset, is broken, or is mid-statement is
  closed instead. Server-side prepared statements are kept on purpose (the point of pooling);
- an idle session is checked with an empty query before reuse when it has been idle for more
  than ``CHECK_AFTER_IDLE_S``; a dead one is closed and a new one opened;
- the pool key is the whole ``TargetConnection`` (host, port, database, user, password,
  sslmode, timeouts): a target whose connection settings change gets new sessions in every
  process, never an old one. In the process that saves the change, the ``target_repointed``
  receiver (``targets.receivers``) also closes the old sessions at once; elsewhere they are
  closed once idle for ``MAX_IDLE_S``, by a daemon reaper thread, as is every session older
  than ``MAX_LIFETIME_S``;
- connecting happens inline, through ``TargetConnection.connect``: an unreachable target
  fails at once with libpq's message, as an unpooled analysis does (psycopg_pool connects
  in a background worker and retries, so a waiting caller only sees a timeout: that is why
  this module does not use it);
- a forked child forgets the parent's sessions without touching them (closing a socket the
  parent still uses would end the parent's session);
- nothing here logs or formats a password: pools are named by ``describe()``.

``TARGET_POOL = False`` (Django setting, or ``DATAFLOW_TARGET_POOL=0``) turns pooling off: every
``pooled_read_only`` then opens and closes its own session, as before.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import psycopg
from psycopg import pq
from psycopg.rows import tuple_row

from targets.engines.connections import TargetConnection, _django_setting

logger = logging.getLogger(__name__)

POOL_OPTIONS = "-c plan_cache_mode=force_generic_plan"
RESET_SQL = b"RESET ALL; CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD TEMP"
MAX_IDLE_PER_TARGET = 2
MAX_IDLE_S = 300.0
MAX_LIFETIME_S = 30 * 60.0
CHECK_AFTER_IDLE_S = 1.0
REAP_EVERY_S = 10.0


class _Idle:
    __slots__ = ("conn", "created_at", "returned_at")

    def __init__(self, conn: psycopg.Connection, created_at: float, returned_at: float):
        self.conn, self.created_at, self.returned_at = conn, created_at, returned_at


class _Pool:
    def __init__(self, target: TargetConnection):
        self.key = target
        self.name = target.describe()
        self.idle: list[_Idle] = []
        self.checked_out = 0
        self.closed = False


_lock = threading.Lock()
_pools: dict[TargetConnection, _Pool] = {}
_reaper: threading.Thread | None = None
_inherited: list = []  # a forked child keeps the parent's sessions referenced, never closes them
_stats = {"opened": 0, "reused": 0, "closed": 0, "reset_failed": 0, "check_failed": 0}


def enabled() -> bool:
    # Django's setting only where Django is loaded already (lint_cli --dsn runs without it)
    setting = _django_setting("TARGET_POOL") if "django.conf" in sys.modules else None
    if setting is not None:
        return bool(setting)
    return os.environ.get("DATAFLOW_TARGET_POOL", "1").lower() not in ("0", "false", "off", "no")


@contextmanager
def pooled_read_only(target: TargetConnection) -> Iterator[psycopg.Connection]:
    """A read-only session on ``target`` (as ``target.read_only()``), from this process' pool.
    Raises ``TargetConnectionError`` (a safe message) when the target cannot be reached."""
    if not enabled():
        with target.read_only() as conn:
            yield conn
        return
    pool, conn, created_at = _acquire(target)
    try:
        yield conn
    finally:
        _release(pool, conn, created_at)


def _acquire(target: TargetConnection) -> tuple[_Pool, psycopg.Connection, float]:
    now = time.monotonic()
    with _lock:
        pool = _pools.get(target)
        if pool is None or pool.closed:
            pool = _pools[target] = _Pool(target)
        _start_reaper()
        pool.checked_out += 1
        candidate = pool.idle.pop() if pool.idle else None  # the most recently used: warmest
    while candidate is not None:
        if now - candidate.created_at < MAX_LIFETIME_S and _alive(candidate, now):
            _stats["reused"] += 1
            return pool, candidate.conn, candidate.created_at
        _close(candidate.conn)
        with _lock:
            candidate = pool.idle.pop() if pool.idle else None
    try:
        conn = target.connect(read_only=True, extra_options=POOL_OPTIONS)  # TargetConnectionError if unreachable
    except BaseException:
        with _lock:
            pool.checked_out -= 1
        raise
    conn.prepare_threshold = 0
    _stats["opened"] += 1
    return pool, conn, time.monotonic()


def _alive(idle: _Idle, now: float) -> bool:
    if idle.conn.closed or idle.conn.broken:
        return False
    if now - idle.returned_at < CHECK_AFTER_IDLE_S:
        return True
    try:
        result = idle.conn.pgconn.exec_(b"")
    except psycopg.Error:
        result = None
    if result is not None and result.status == pq.ExecStatus.EMPTY_QUERY and idle.conn.pgconn.transaction_status == pq.TransactionStatus.IDLE:
        return True
    _stats["check_failed"] += 1
    return False


def _release(pool: _Pool, conn: psycopg.Connection, created_at: float) -> None:
    clean = _reset(conn)
    now = time.monotonic()
    with _lock:
        pool.checked_out -= 1
        keep = (clean and not pool.closed and _pools.get(pool.key) is pool and len(pool.idle) < MAX_IDLE_PER_TARGET
                and now - created_at < MAX_LIFETIME_S)
        if keep:
            pool.idle.append(_Idle(conn, created_at, now))
    if not keep:
        _close(conn)


def _reset(conn: psycopg.Connection) -> bool:
    """Bring a returned session back to the state it was opened in; False: close it instead."""
    if conn.closed or conn.broken:
        return False
    status = conn.pgconn.transaction_status
    if status in (pq.TransactionStatus.ACTIVE, pq.TransactionStatus.UNKNOWN):
        return False
    try:
        # The transaction is rolled back by the same simple query that resets the session, not
        # by conn.rollback(): psycopg deallocates every prepared statement on a rollback it
        # runs itself (the queries pooled here read the catalogs only, whose objects are never
        # dropped and recreated under them), which would leave nothing prepared to reuse.
        results = conn.pgconn.exec_((b"ROLLBACK; " if status != pq.TransactionStatus.IDLE else b"") + RESET_SQL)
        if results.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK) \
                or conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            raise psycopg.OperationalError("the session could not be reset")
        # psycopg's side of the session (no round trip while idle)
        conn.autocommit = False
        conn.isolation_level = None
        conn.read_only = None
        conn.deferrable = None
        conn.prepare_threshold = 0
        conn.row_factory = tuple_row
    except psycopg.Error as exc:
        _stats["reset_failed"] += 1
        logger.warning("closing a pooled target session that could not be reset: %s", type(exc).__name__)
        return False
    return True


def _close(conn: psycopg.Connection) -> None:
    _stats["closed"] += 1
    try:
        conn.close()
    except Exception:  # already gone: nothing to release
        pass


def close_pools(matching: Callable[[TargetConnection], bool] | None = None) -> int:
    """Close the idle sessions of the pools whose target matches (all when ``matching`` is None)
    and retire those pools: a session checked out of one is closed when it comes back.
    Returns how many sessions were closed now."""
    with _lock:
        keys = [key for key in _pools if matching is None or matching(key)]
        retired = [_pools.pop(key) for key in keys]
        idle = []
        for pool in retired:
            pool.closed = True
            idle.extend(pool.idle)
            pool.idle = []
    for item in idle:
        _close(item.conn)
    return len(idle)


def close_pools_for(identities: list[dict]) -> int:
    """Close the pools of every target whose host, port, database and user is one of
    ``identities`` (the old and new connection settings of a repointed target)."""
    wanted = {(str(i["host"]), int(i["port"]), str(i["dbname"]), str(i["user"])) for i in identities}
    return close_pools(lambda key: (key.host, key.port, key.dbname, key.user) in wanted)


def reap(now: float | None = None) -> int:
    """Close sessions idle for longer than ``MAX_IDLE_S`` or older than ``MAX_LIFETIME_S``, and
    drop pools left empty."""
    now = time.monotonic() if now is None else now
    expired = []
    with _lock:
        for key, pool in list(_pools.items()):
            keep = []
            for item in pool.idle:
                (expired if now - item.returned_at >= MAX_IDLE_S or now - item.created_at >= MAX_LIFETIME_S
                 else keep).append(item)
            pool.idle = keep
            if not keep and not pool.checked_out:
                del _pools[key]
    for item in expired:
        _close(item.conn)
    return len(expired)


def idle_sessions() -> dict[str, int]:
    """``user@host:port/dbname`` -> idle sessions kept (no secret: for tests and diagnostics)."""
    with _lock:
        return {pool.name: len(pool.idle) for pool in _pools.values() if pool.idle}


def stats() -> dict[str, int]:
    return dict(_stats)


def _reap_forever() -> None:
    while True:
        time.sleep(REAP_EVERY_S)
        try:
            reap()
        except Exception:  # never let the reaper die on one bad session
            logger.exception("reaping pooled target sessions failed")


def _start_reaper() -> None:
    global _reaper
    if _reaper is None or not _reaper.is_alive():
        _reaper = threading.Thread(target=_reap_forever, name="dataflow-target-pool-reaper", daemon=True)
        _reaper.start()


def _forget_after_fork() -> None:
    """In a forked child: the sessions belong to the parent. Keep them referenced (a garbage
    collected connection would say goodbye on the parent's socket) and start empty."""
    global _lock, _reaper
    _inherited.append(dict(_pools))
    _pools.clear()
    _lock = threading.Lock()
    _reaper = None


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(close_pools)
