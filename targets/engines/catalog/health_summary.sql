-- One round trip for the health check's headline facts.
SELECT
    version()                                                     AS server_version,
    current_setting('server_version_num')::int                    AS server_version_num,
    current_database()                                            AS database,
    pg_database_size(current_database())                          AS database_size_bytes,
    pg_size_pretty(pg_database_size(current_database()))          AS database_size,
    (SELECT count(*) FROM pg_stat_activity
      WHERE datname = current_database() AND state = 'active'
        AND pid <> pg_backend_pid())                              AS active_connections,
    (SELECT count(*) FROM pg_stat_activity
      WHERE datname = current_database())                         AS total_connections,
    current_setting('max_connections')::int                       AS max_connections,
    pg_is_in_recovery()                                           AS is_replica,
    EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS pg_stat_statements_installed,
    to_regclass('public.dataflow_migration_locks') IS NOT NULL    AS has_lock_table,
    pg_postmaster_start_time()                                    AS started_at
