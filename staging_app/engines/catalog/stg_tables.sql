-- Top-level tables whose rows are copied: ordinary and partitioned tables that are not
-- partitions themselves (a partitioned root is read and written as a whole; COPY routes rows).
-- Columns exclude dropped and generated ones (COPY cannot write generated columns).
-- binary_copy: every column is of a built-in type with binary send/receive (directly, as
-- array elements or as a domain's base), so the rows can travel in COPY's binary format;
-- extension and user-defined types (and composites) keep the text format.
SELECT c.oid::bigint AS oid,
       n.nspname AS schema_name,
       c.relname AS table_name,
       c.relkind::text AS relkind,
       coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}') AS columns,
       coalesce(array_agg(a.attname::text ORDER BY a.attnum)
                FILTER (WHERE t.typcategory = 'S' OR bt.typcategory = 'S'), '{}') AS text_columns,
       coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnotnull), '{}') AS not_null_columns,
       coalesce(bool_and(coalesce(bt.oid, t.oid) < 16384
                         AND coalesce(bt.typsend, t.typsend) <> 0 AND coalesce(bt.typreceive, t.typreceive) <> 0
                         AND coalesce(bt.typtype, t.typtype) = 'b'
                         AND coalesce(nullif(coalesce(bt.typelem, t.typelem), 0), 0) < 16384), false) AS binary_copy
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
LEFT JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
WHERE c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
GROUP BY c.oid, n.nspname, c.relname, c.relkind
ORDER BY n.nspname, c.relname
