-- Where the migration lock table lives (or should be created): public.dataflow_migration_locks
-- when it exists or public exists and we may create in it; otherwise dataflow.dataflow_migration_locks.
SELECT to_regclass('public.dataflow_migration_locks') IS NOT NULL AS public_table,
       to_regclass('dataflow.dataflow_migration_locks') IS NOT NULL AS dataflow_table,
       CASE WHEN to_regnamespace('public') IS NULL THEN false
            ELSE has_schema_privilege('public', 'CREATE') END AS can_create_in_public
