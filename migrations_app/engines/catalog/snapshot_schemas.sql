-- The schemas a whole-database snapshot (drift) covers: every schema but the system ones, temporary ones, and the
-- tool's own (dataflow, dataflow_backup and any other dataflow* schema the executor writes).
SELECT nspname AS schema
FROM pg_namespace
WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND nspname NOT LIKE 'pg\_temp\_%'
  AND nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND nspname NOT LIKE 'dataflow%'
ORDER BY 1
