-- Valid indexes of one table with their leading column (NULL when it is an expression) and
-- the primary key's columns in key order.
SELECT ic.relname AS index_name,
       i.indisprimary AS is_primary,
       i.indisunique AS is_unique,
       i.indpred IS NOT NULL AS is_partial,
       am.amname AS access_method,
       lead_col.attname AS leading_column,
       ARRAY(
           SELECT a.attname
           FROM unnest(i.indkey::smallint[]) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
           ORDER BY k.ord
       ) AS key_columns,
       i.indnkeyatts AS key_count
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
LEFT JOIN pg_catalog.pg_attribute lead_col
       ON lead_col.attrelid = c.oid AND lead_col.attnum = i.indkey[0] AND i.indkey[0] <> 0
WHERE n.nspname = %(schema)s
  AND c.relname = %(table)s
  AND i.indisvalid
ORDER BY i.indisprimary DESC, ic.relname
