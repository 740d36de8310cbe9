"""Concurrent Access Manager (runbook names): the migration lock, the atomic executor and
their data types. The implementation lives in smaller modules; import from here."""

from migrations_app.engines.atomic_executor import AtomicMigrationExecutor
from migrations_app.engines.execution_results import AttemptRecord, MigrationResult, StatementLogEntry
from migrations_app.engines.execution_run import RETRYABLE_SQLSTATES, resolve_in_doubt_commit
from migrations_app.engines.migration_lock import (
    LockStatus,
    MigrationLock,
    MigrationLockError,
    MigrationLockLost,
    MigrationLockManager,
    MigrationLockTimeout,
    lock_key,
)
from migrations_app.engines.migration_operations import (
    MigrationOperation,
    StatementParseError,
    analyze_statement,
    operations_from_script,
    split_script,
)
from migrations_app.engines.rollback_plans import BACKUP_SCHEMA, RollbackPlan, RollbackStep

__all__ = [
    "AtomicMigrationExecutor", "AttemptRecord", "BACKUP_SCHEMA", "LockStatus", "MigrationLock",
    "MigrationLockError", "MigrationLockLost", "MigrationLockManager", "MigrationLockTimeout",
    "MigrationOperation", "MigrationResult", "RETRYABLE_SQLSTATES", "RollbackPlan", "RollbackStep",
    "StatementLogEntry", "StatementParseError", "analyze_statement", "lock_key", "operations_from_script",
    "resolve_in_doubt_commit", "split_script",
]
