"""Database health check (runbook: Pre-Migration Checklist, "Database Health Check").

A constant three round trips at most: headline facts, long transactions, and the migration
lock table when it exists. Runs in a read-only session with a statement timeout.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from targets.engines.catalog import query
from targets.engines.connections import TargetConnection, TargetConnectionError

LONG_TRANSACTION_SECONDS = 300


@dataclasses.dataclass
class HealthReport:
    target: str
    ok: bool
    checked_at: str
    error: str = ""
    server_version: str = ""
    server_version_num: int = 0
    database_size: str = ""
    database_size_bytes: int = 0
    active_connections: int = 0
    total_connections: int = 0
    max_connections: int = 0
    is_replica: bool = False
    pg_stat_statements_installed: bool = False
    long_transactions: list[dict] = dataclasses.field(default_factory=list)
    migration_locks: list[dict] | None = None  # None: the lock table does not exist yet
    warnings: list[str] = dataclasses.field(default_factory=list)
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def short_version(self) -> str:
        return " ".join(self.server_version.split()[:2])


class DatabaseHealthCheck:
    def __init__(self, connection: TargetConnection, *, long_transaction_seconds: int = LONG_TRANSACTION_SECONDS):
        self.connection = connection
        self.long_transaction_seconds = long_transaction_seconds

    def run(self) -> HealthReport:
        """Never raises for an unreachable or failing target: the report carries the error."""
        started = datetime.now().astimezone()
        report = HealthReport(target=self.connection.describe(), ok=False, checked_at=started.isoformat())
        try:
            with self.connection.read_only() as conn:
                self._collect(conn, report)
            report.ok = True
        except TargetConnectionError as exc:
            report.error = str(exc)
        except psycopg.Error as exc:
            sqlstate = getattr(exc, "sqlstate", None) or ""
            report.error = f"health check query failed{f' ({sqlstate})' if sqlstate else ''}: {str(exc).strip().splitlines()[0]}"
        report.elapsed_ms = round((datetime.now().astimezone() - started).total_seconds() * 1000, 1)
        return report

    def _collect(self, conn: psycopg.Connection, report: HealthReport) -> None:
        with conn.cursor(row_factory=dict_row) as cur:
            summary = cur.execute(query("health_summary")).fetchone()
            for field in ("server_version", "server_version_num", "database_size", "database_size_bytes",
                          "active_connections", "total_connections", "max_connections", "is_replica",
                          "pg_stat_statements_installed"):
                setattr(report, field, summary[field])
            long_rows = cur.execute(query("health_long_transactions"),
                                    {"threshold_seconds": self.long_transaction_seconds}).fetchall()
            report.long_transactions = [dict(row) for row in long_rows]
            if summary["has_lock_table"]:
                report.migration_locks = [
                    {**row, "acquired_at": _iso(row["acquired_at"]), "expires_at": _iso(row["expires_at"])}
                    for row in cur.execute(query("health_migration_locks")).fetchall()
                ]
        if report.long_transactions:
            report.warnings.append(
                f"{len(report.long_transactions)} transaction(s) open longer than "
                f"{self.long_transaction_seconds // 60} minutes: DDL would queue behind them"
            )
        if report.is_replica:
            report.warnings.append("the server is a replica (in recovery): migrations cannot run here")
        if report.max_connections and report.total_connections > 0.9 * report.max_connections:
            report.warnings.append(f"{report.total_connections} of {report.max_connections} connections in use")
        held = [lock for lock in (report.migration_locks or []) if lock["current"]]
        if held:
            report.warnings.append("migration lock held on " + ", ".join(lock["schema_name"] for lock in held))


def _iso(value):
    return value.isoformat() if value is not None else None
