-- Whether the table (and the column, when one is given) exists: the foreign key analyzer refuses
-- unknown names instead of reporting no keys. attnum is NULL for a missing column.
SELECT a.attnum
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a
       ON a.attrelid = c.oid AND a.attname = %(column)s AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = %(schema)s
  AND c.relname = %(table)s
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
