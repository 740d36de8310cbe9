-- The table (and optionally the column) an analysis is about, with the facts that live on
-- the column itself: type, NOT NULL, and the partition keys (its own or its ancestors') it is in.
-- Partition-key columns carry an internal self-dependency in pg_depend (deptype 'i').
SELECT c.oid AS relid,
       n.nspname AS schema,
       c.relname AS table_name,
       c.relkind::text AS relkind,
       a.attnum,
       a.attname,
       format_type(a.atttypid, a.atttypmod) AS column_type,
       a.attnotnull,
       a.attinhcount,
       coalesce((
           SELECT array_agg(format('%%s.%%s', pn.nspname, pc.relname) ORDER BY anc.level)
           FROM pg_partition_ancestors(c.oid) WITH ORDINALITY AS anc(relid, level)
           JOIN pg_class pc ON pc.oid = anc.relid
           JOIN pg_namespace pn ON pn.oid = pc.relnamespace
           JOIN pg_attribute pa ON pa.attrelid = pc.oid AND pa.attname = a.attname AND NOT pa.attisdropped
           WHERE pc.relkind = 'p'
             AND EXISTS (SELECT 1 FROM pg_depend pd
                         WHERE pd.classid = 'pg_class'::regclass AND pd.objid = pc.oid
                           AND pd.objsubid = pa.attnum AND pd.refclassid = 'pg_class'::regclass
                           AND pd.refobjid = pc.oid AND pd.refobjsubid = 0 AND pd.deptype = 'i')
       ), '{}') AS partition_key_of,
       (SELECT pg_get_partkeydef(pc.oid) FROM pg_partition_root(c.oid) AS root(oid)
          JOIN pg_class pc ON pc.oid = root.oid WHERE pc.relkind = 'p') AS partition_key_def
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a
       ON a.attrelid = c.oid AND a.attname = %(column)s AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = %(schema)s
  AND c.relname = %(table)s
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
