"""PostgreSQL facts the statement analysis relies on: lock modes, volatility, type widening.

Lock modes follow the PostgreSQL 15 documentation ("ALTER TABLE": the lock level of each
subcommand; "Explicit Locking": the commands that take each mode) and ``AlterTableGetLockLevel``
in ``tablecmds.c``. When several subcommands are combined the strictest lock is taken.
"""

from __future__ import annotations

LOCK_MODES = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)
LOCK_RANK = {mode: rank for rank, mode in enumerate(LOCK_MODES, start=1)}

# Modes that block ordinary INSERT/UPDATE/DELETE (they conflict with ROW EXCLUSIVE).
WRITE_BLOCKING = {"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}
# Modes that block plain SELECT too.
READ_BLOCKING = {"ACCESS EXCLUSIVE"}


def strictest(*modes: str | None) -> str | None:
    present = [m for m in modes if m]
    return max(present, key=LOCK_RANK.__getitem__) if present else None


# ALTER TABLE subcommands whose documented lock is weaker than ACCESS EXCLUSIVE.
ALTER_TABLE_LOCKS = {
    "AT_SetStatistics": "SHARE UPDATE EXCLUSIVE",
    "AT_SetOptions": "SHARE UPDATE EXCLUSIVE",      # ALTER COLUMN SET (n_distinct = ...)
    "AT_ResetOptions": "SHARE UPDATE EXCLUSIVE",
    "AT_ClusterOn": "SHARE UPDATE EXCLUSIVE",
    "AT_DropCluster": "SHARE UPDATE EXCLUSIVE",
    "AT_ValidateConstraint": "SHARE UPDATE EXCLUSIVE",
    "AT_AttachPartition": "SHARE UPDATE EXCLUSIVE",  # on the parent; the partition gets ACCESS EXCLUSIVE
    "AT_EnableTrig": "SHARE ROW EXCLUSIVE",
    "AT_EnableAlwaysTrig": "SHARE ROW EXCLUSIVE",
    "AT_EnableReplicaTrig": "SHARE ROW EXCLUSIVE",
    "AT_DisableTrig": "SHARE ROW EXCLUSIVE",
    "AT_EnableTrigAll": "SHARE ROW EXCLUSIVE",
    "AT_DisableTrigAll": "SHARE ROW EXCLUSIVE",
    "AT_EnableTrigUser": "SHARE ROW EXCLUSIVE",
    "AT_DisableTrigUser": "SHARE ROW EXCLUSIVE",
}

# SET (storage_parameter) takes SHARE UPDATE EXCLUSIVE only when every parameter is one of these
# (fillfactor, the autovacuum family, toast_tuple_target, parallel_workers, ...); others need
# ACCESS EXCLUSIVE.
SHARE_UPDATE_RELOPTIONS = {
    "fillfactor", "toast_tuple_target", "parallel_workers", "vacuum_truncate", "vacuum_index_cleanup",
    "log_autovacuum_min_duration", "user_catalog_table",
}
SHARE_UPDATE_RELOPTION_PREFIXES = ("autovacuum_", "toast.autovacuum_")

# Runbook operation type of each ALTER TABLE subcommand.
ALTER_TABLE_KINDS = {
    "AT_AddColumn": "ADD_COLUMN",
    "AT_DropColumn": "DROP_COLUMN",
    "AT_AlterColumnType": "ALTER_TYPE",
    "AT_SetNotNull": "SET_NOT_NULL",
    "AT_DropNotNull": "DROP_NOT_NULL",
    "AT_ColumnDefault": "SET_DEFAULT",
    "AT_AddConstraint": "ADD_CONSTRAINT",
    "AT_AddIndexConstraint": "ADD_CONSTRAINT",
    "AT_ValidateConstraint": "VALIDATE_CONSTRAINT",
    "AT_DropConstraint": "DROP_CONSTRAINT",
    "AT_AttachPartition": "ATTACH_PARTITION",
    "AT_DetachPartition": "DETACH_PARTITION",
    "AT_SetTableSpace": "SET_TABLESPACE",
    "AT_AddIdentity": "ADD_IDENTITY",
    "AT_DropIdentity": "DROP_IDENTITY",
    "AT_SetExpression": "SET_EXPRESSION",
    "AT_DropExpression": "DROP_EXPRESSION",
}

# Subcommands that rewrite every row whatever their arguments.
ALWAYS_REWRITE = {"AT_SetTableSpace", "AT_SetLogged", "AT_SetUnLogged", "AT_SetAccessMethod", "AT_SetExpression"}

# Function volatility used when no database is connected (the live check reads pg_proc.provolatile).
# Only functions whose volatility matters for ADD COLUMN ... DEFAULT are listed.
KNOWN_VOLATILITY = {
    "now": "s", "statement_timestamp": "s", "transaction_timestamp": "s", "current_setting": "s",
    "to_timestamp": "i", "lower": "i", "upper": "i", "coalesce": "i", "length": "i",
    "md5": "i", "jsonb_build_object": "s", "json_build_object": "s", "array": "i",
    "clock_timestamp": "v", "timeofday": "v", "random": "v", "gen_random_uuid": "v",
    "uuid_generate_v1": "v", "uuid_generate_v1mc": "v", "uuid_generate_v4": "v", "nextval": "v",
    "txid_current": "s", "setseed": "v", "pg_backend_pid": "s", "uuidv7": "v", "uuidv4": "v",
}
# SQL value functions (CURRENT_TIMESTAMP, CURRENT_DATE, LOCALTIMESTAMP, CURRENT_USER...) are all stable.

# Types whose defaults are implicitly volatile: serial columns get a nextval() default.
SERIAL_TYPES = {"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"}

# Type changes PostgreSQL performs without a rewrite (binary coercible), as (old base, new base).
BINARY_COERCIBLE = {
    ("varchar", "text"), ("text", "varchar"), ("bpchar", "text"), ("varchar", "varchar"),
    ("numeric", "numeric"), ("bit", "varbit"), ("varbit", "varbit"), ("cidr", "inet"),
    ("xml", "text"), ("text", "xml"),
}
