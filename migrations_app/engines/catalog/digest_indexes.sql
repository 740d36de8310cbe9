SELECT n.nspname AS schema, t.relname AS relation, ic.relname AS name,
       pg_get_indexdef(i.indexrelid) AS definition, i.indisvalid AS valid,
       i.indisclustered AS clustered, i.indisreplident AS replica_identity
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
  AND NOT (t.relname = 'dataflow_migration_locks' AND n.nspname IN ('public', 'dataflow'))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY 1, 2, 3
