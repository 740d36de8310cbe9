-- Relations of the given schemas (tables, partitioned tables, views, matviews, foreign tables,
-- sequences, composite types), without extension members and the tool's own lock table.
SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
       c.relpersistence::text AS persistence, c.relrowsecurity AS row_security,
       c.relforcerowsecurity AS force_row_security,
       coalesce(array_to_string(c.reloptions, ','), '') AS options,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS view_definition,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       pg_get_expr(c.relpartbound, c.oid) AS partition_bound,
       (SELECT string_agg(pn.nspname || '.' || p.relname, ',' ORDER BY i.inhseqno)
          FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
          JOIN pg_namespace pn ON pn.oid = p.relnamespace
         WHERE i.inhrelid = c.oid) AS parents
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
  AND NOT (c.relname = 'dataflow_migration_locks' AND n.nspname IN ('public', 'dataflow'))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
  AND NOT (c.relkind = 'c' AND EXISTS (SELECT 1 FROM pg_type t JOIN pg_depend d
                  ON d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'
                  WHERE t.typrelid = c.oid))
ORDER BY 1, 2
