"""Concurrent Access Manager (runbook names): the migration lock, the atomic executor, its journal
on the target, its results, and the schema digest that proves what changed."""

from migrations_app.engines.execution.digest import SchemaDigest, SchemaDigestError, schema_digest
from migrations_app.engines.execution.executor import AtomicMigrationExecutor
from migrations_app.engines.execution.journal import COMMITTED, Reconciliation, reconcile
from migrations_app.engines.execution.lock import (LockStatus, MigrationLock, MigrationLockError, MigrationLockLost,
                                                   MigrationLockManager, MigrationLockTimeout, lock_key)
from migrations_app.engines.execution.results import AttemptRecord, MigrationResult, StatementLogEntry, now_iso
from migrations_app.engines.execution.run import RETRYABLE_SQLSTATES, resolve_in_doubt_commit

__all__ = ["AtomicMigrationExecutor", "AttemptRecord", "COMMITTED", "LockStatus", "MigrationLock", "MigrationLockError",
           "MigrationLockLost", "MigrationLockManager", "MigrationLockTimeout", "MigrationResult", "RETRYABLE_SQLSTATES",
           "Reconciliation", "SchemaDigest", "SchemaDigestError", "StatementLogEntry", "lock_key", "now_iso",
           "reconcile", "resolve_in_doubt_commit", "schema_digest"]
