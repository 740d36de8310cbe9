-- Ordinary and partitioned tables of one schema that a performance baseline can measure.
-- Partitions are measured through their parent; extension members are not ours to time.
SELECT c.relname AS table_name,
       c.relkind::text AS relkind,
       c.reltuples::bigint AS estimated_rows,
       c.relpages::bigint AS relpages
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s
  AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%%'
  AND n.nspname NOT LIKE 'pg\_temp\_%%'
  AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_depend d
      WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  )
ORDER BY c.relname
