-- Rows of the migration lock table (created by MigrationLockManager on the target).
SELECT schema_name,
       holder_process_id,
       acquired_at,
       expires_at,
       expires_at > now() AS current
FROM public.dataflow_migration_locks
ORDER BY schema_name
