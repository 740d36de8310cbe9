"""The statement policy's lists, in one place (documented in the README, "Statement policy").

Each entry says why: the reason is what the author and the reviewer read.
"""

from __future__ import annotations

# Statement node types refused outright: they reach beyond the plan's database or the
# executor's session, or they end the transaction the executor relies on.
REFUSED_NODE_TYPES = {
    "TransactionStmt": "transaction control (BEGIN/COMMIT/ROLLBACK/SAVEPOINT/PREPARE TRANSACTION) is the executor's: "
                       "a COMMIT inside the plan would make a later failure leave earlier statements applied",
    "CreatedbStmt": "creates a database: the plan may change only its own target database",
    "DropdbStmt": "drops a database: the plan may change only its own target database",
    "AlterDatabaseStmt": "alters a database: cluster-level change outside the plan's scope",
    "AlterDatabaseSetStmt": "changes a database's settings: cluster-level change outside the plan's scope",
    "AlterDatabaseRefreshCollStmt": "alters a database: cluster-level change outside the plan's scope",
    "AlterSystemStmt": "ALTER SYSTEM changes the server's configuration for every database",
    "CreateRoleStmt": "creates a role: roles are cluster-wide and managed outside migrations",
    "AlterRoleStmt": "alters a role: roles are cluster-wide and managed outside migrations",
    "AlterRoleSetStmt": "changes a role's settings: roles are cluster-wide and managed outside migrations",
    "DropRoleStmt": "drops a role: roles are cluster-wide and managed outside migrations",
    "GrantRoleStmt": "grants role membership: roles are cluster-wide and managed outside migrations",
    "ReassignOwnedStmt": "REASSIGN OWNED changes every object of a role, in every schema",
    "DropOwnedStmt": "DROP OWNED drops every object of a role, in every schema",
    "CreateTableSpaceStmt": "tablespaces are cluster-wide and live on the server's file system",
    "DropTableSpaceStmt": "tablespaces are cluster-wide and live on the server's file system",
    "AlterTableSpaceOptionsStmt": "tablespaces are cluster-wide and live on the server's file system",
    "AlterTableMoveAllStmt": "moves every relation of a tablespace: cluster-wide change",
    "LoadStmt": "LOAD loads a shared library from the server's file system",
    "CheckPointStmt": "CHECKPOINT is a server-wide operation",
    "CreateSubscriptionStmt": "subscriptions open replication connections to other servers",
    "AlterSubscriptionStmt": "subscriptions open replication connections to other servers",
    "DropSubscriptionStmt": "subscriptions open replication connections to other servers",
    "CreateEventTrigStmt": "event triggers fire on every DDL statement of the database",
    "AlterEventTrigStmt": "event triggers fire on every DDL statement of the database",
    "DiscardStmt": "DISCARD resets the executor's session settings (lock_timeout, statement_timeout, search_path)",
    "PrepareStmt": "prepared statements hide the statement from the review: write the statement itself",
    "ExecuteStmt": "EXECUTE of a prepared statement hides the statement from the review: write the statement itself",
    "CreatePLangStmt": "CREATE LANGUAGE installs a procedural language (code that runs on the server)",
    "CopyStmt": "COPY",  # refined per form in policy.py
}

# Settings a plan may not change with SET, RESET or set_config(): they are the executor's guards,
# the identity it runs as, or the name resolution the review assumed.
GUARDED_SETTINGS = {
    "lock_timeout": "the executor's lock_timeout keeps an ALTER from queueing every query behind it",
    "statement_timeout": "the executor's statement_timeout bounds every statement "
                         "(a plan that needs longer says so in its reviewed 'statement timeout' field)",
    "idle_in_transaction_session_timeout": "the executor's guard against a frozen worker holding locks",
    "transaction_timeout": "the executor's guard on transaction length",
    "idle_session_timeout": "the executor's session guard",
    "session_replication_role": "'replica' switches off triggers and foreign-key checks",
    "search_path": "the review resolved unqualified names in the plan's schema; qualify names instead",
    "role": "SET ROLE changes who the statements run as",
    "session_authorization": "SET SESSION AUTHORIZATION changes who the statements run as",
    "allow_system_table_mods": "allows changing the system catalogs",
    "zero_damaged_pages": "destroys damaged data silently",
    "ignore_system_indexes": "changes how the catalogs are read",
    "default_transaction_read_only": "changes the transaction mode the executor relies on",
    "transaction_read_only": "changes the transaction mode the executor relies on",
    "default_transaction_isolation": "changes the transaction mode the executor relies on",
    "transaction_isolation": "changes the transaction mode the executor relies on",
}

# Functions refused wherever they are called (top level, defaults, views, DO blocks, routine
# bodies, dynamic SQL): server files, other sessions, the server's configuration, other servers,
# and functions that run a query given as text (which the review cannot see).
REFUSED_FUNCTIONS = {
    # server file system
    **dict.fromkeys(("pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_ls_logdir",
                     "pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir", "pg_ls_logicalsnapdir",
                     "pg_ls_logicalmapdir", "pg_ls_replslotdir", "pg_file_write", "pg_file_rename",
                     "pg_file_unlink", "pg_file_sync", "pg_logdir_ls", "lo_import", "lo_export",
                     "pg_current_logfile"),
                    "reads or writes files on the database server"),
    # other sessions
    **dict.fromkeys(("pg_terminate_backend", "pg_cancel_backend", "pg_signal_backend"),
                    "terminates or signals other sessions"),
    # the server
    **dict.fromkeys(("pg_reload_conf", "pg_rotate_logfile", "pg_promote", "pg_switch_wal", "pg_create_restore_point",
                     "pg_backup_start", "pg_backup_stop", "pg_start_backup", "pg_stop_backup",
                     "pg_create_physical_replication_slot", "pg_create_logical_replication_slot",
                     "pg_drop_replication_slot", "pg_copy_physical_replication_slot",
                     "pg_copy_logical_replication_slot", "pg_replication_origin_create",
                     "pg_replication_origin_drop", "pg_log_backend_memory_contexts", "pg_wal_replay_pause",
                     "pg_wal_replay_resume", "pg_stat_reset", "pg_stat_reset_shared"),
                    "acts on the whole server (configuration, WAL, replication, backups, statistics)"),
    # other servers
    **dict.fromkeys(("dblink", "dblink_exec", "dblink_connect", "dblink_connect_u", "dblink_open", "dblink_fetch",
                     "dblink_send_query", "dblink_get_result", "dblink_disconnect"),
                    "connects to another database or server"),
    # queries given as text
    **dict.fromkeys(("query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml",
                     "ts_stat", "database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema"),
                    "runs a query given as text, which the review cannot see"),
}

# Languages whose routines and DO blocks can reach the operating system (untrusted) or load
# native code: refused. Other languages than sql/plpgsql are not parsed: a finding with a HIGH floor.
REFUSED_LANGUAGES = {"c", "internal", "plpythonu", "plpython2u", "plpython3u", "plperlu", "pltclu", "plsh", "plrustu"}
PARSED_LANGUAGES = {"sql", "plpgsql"}

# Statement kinds that reach outside the database through a foreign server: reviewed by hand.
FOREIGN_NODE_TYPES = {"CreateFdwStmt", "AlterFdwStmt", "CreateForeignServerStmt", "AlterForeignServerStmt",
                      "CreateUserMappingStmt", "AlterUserMappingStmt", "ImportForeignSchemaStmt",
                      "CreateForeignTableStmt"}
# Foreign-data options that read files or run programs on the server (file_fdw): refused.
REFUSED_FDW_OPTIONS = {"program": "runs a program on the database server",
                       "filename": "reads a file on the database server"}
