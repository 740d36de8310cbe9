-- Every foreign key between user tables, one row per constraint, columns paired in key order.
-- One query for the whole database: chains and cycles are then walked in memory.
SELECT con.oid,
       cn.nspname AS schema, con.conname AS name,
       sn.nspname AS source_schema, sc.relname AS source_table,
       tn.nspname AS target_schema, tc.relname AS target_table,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS source_columns,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS target_columns,
       con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update,
       con.condeferrable AS deferrable, con.condeferred AS deferred, con.convalidated AS validated,
       pg_get_constraintdef(con.oid) AS definition
FROM pg_constraint con
JOIN pg_namespace cn ON cn.oid = con.connamespace
JOIN pg_class sc ON sc.oid = con.conrelid
JOIN pg_namespace sn ON sn.oid = sc.relnamespace
JOIN pg_class tc ON tc.oid = con.confrelid
JOIN pg_namespace tn ON tn.oid = tc.relnamespace
WHERE con.contype = 'f'
  AND con.conparentid = 0  -- partitions' copies of a parent's key are the parent's key
  AND sn.nspname NOT IN ('pg_catalog', 'information_schema')
  AND sn.nspname NOT LIKE 'pg\_toast%%' AND sn.nspname NOT LIKE 'pg\_temp\_%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
                  AND e.objid = con.conrelid AND e.deptype = 'e')
ORDER BY sn.nspname, sc.relname, con.conname
