-- Foreign keys in or out of the touched tables, and whether an index on the referencing
-- table starts with the referencing columns (without one, every delete or key update on
-- the referenced table scans the referencing table). Tables referencing the touched ones are
-- followed recursively: TRUNCATE ... CASCADE empties the whole chain (orders <- invoices <- payments).
WITH RECURSIVE referencing(oid) AS (
    SELECT unnest(%(oids)s::oid[])
    UNION
    SELECT c.conrelid FROM pg_constraint c JOIN referencing ON c.confrelid = referencing.oid WHERE c.contype = 'f'
)
SELECT con.conname,
       rn.nspname AS schema_name, r.relname AS table_name,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
       fn.nspname AS ref_schema, f.relname AS ref_table,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS ref_columns,
       con.confdeltype::text AS on_delete,
       con.convalidated,
       EXISTS (
           SELECT 1 FROM pg_index i
           WHERE i.indrelid = con.conrelid AND i.indpred IS NULL
             AND (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] @> con.conkey
             AND (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] <@ con.conkey
       ) AS has_index,
       pg_get_constraintdef(con.oid) AS definition
FROM pg_constraint con
JOIN pg_class r ON r.oid = con.conrelid
JOIN pg_namespace rn ON rn.oid = r.relnamespace
JOIN pg_class f ON f.oid = con.confrelid
JOIN pg_namespace fn ON fn.oid = f.relnamespace
WHERE con.contype = 'f'
  AND (con.conrelid = ANY(%(oids)s::oid[]) OR con.confrelid IN (SELECT oid FROM referencing))
ORDER BY rn.nspname, r.relname, con.conname
