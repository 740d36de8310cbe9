-- SQL completion of the plan editor: every relation a statement can name (tables, partitioned
-- tables, views, materialized views, foreign tables) in every schema that is not the system's,
-- with its columns in order, in one query. Partitions come after everything else, so the bound
-- keeps the tables a DBA names. %(limit)s is one more than the bound: an extra row says "cut".
WITH rels AS (
    SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\_toast%%'
      AND n.nspname NOT LIKE 'pg\_temp\_%%'
    ORDER BY c.relispartition, n.nspname, c.relname
    LIMIT %(limit)s
)
SELECT r.nspname, r.relname, r.relkind,
       -- per relation through pg_attribute's (attrelid, attnum) index: no sort of every column
       ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS columns
FROM rels r
ORDER BY r.relispartition, r.nspname, r.relname
