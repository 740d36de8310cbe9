-- Table and domain constraints with their full definitions.
SELECT n.nspname AS schema, coalesce(c.relname, ty.typname) AS owner_name,
       con.conname AS name, con.contype::text AS type, pg_get_constraintdef(con.oid) AS definition,
       con.convalidated AS validated, con.condeferrable AS deferrable
FROM pg_constraint con
JOIN pg_namespace n ON n.oid = con.connamespace
LEFT JOIN pg_class c ON c.oid = con.conrelid
LEFT JOIN pg_type ty ON ty.oid = con.contypid
WHERE n.nspname = ANY(%(schemas)s)
  AND NOT (coalesce(c.relname, '') = 'dataflow_migration_locks' AND n.nspname IN ('public', 'dataflow'))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = con.conrelid AND d.deptype = 'e')
ORDER BY 1, 2, 3
