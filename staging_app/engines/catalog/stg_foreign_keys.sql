-- Foreign-key edges between top-level tables, by column name (a partition's attnums may
-- differ from its root's). Constraints cloned onto partitions (conparentid <> 0) repeat
-- their parent's edge and are skipped.
SELECT con.conname AS name,
       coalesce(pg_partition_root(con.conrelid), con.conrelid)::bigint AS child_oid,
       coalesce(pg_partition_root(con.confrelid), con.confrelid)::bigint AS parent_oid,
       array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, pos)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.pos) AS child_columns,
       array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, pos)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.pos) AS parent_columns
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'f'
  AND con.conparentid = 0
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
ORDER BY 2, 3, con.conname
