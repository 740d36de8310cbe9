-- Storage file of every table and materialized view in the given schemas: a rewrite (ALTER
-- COLUMN TYPE, VACUUM FULL, CLUSTER, SET LOGGED...) gives the relation a new relfilenode.
-- Read on the executing session itself, so its own uncommitted rewrite is visible.
SELECT c.oid::bigint AS oid,
       n.nspname AS schema_name,
       c.relname AS relation_name,
       c.relkind::text AS relkind,
       c.relfilenode::bigint AS relfilenode
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
  AND c.relkind IN ('r', 'm')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
