-- Foreign keys that point at a table: the referencing table, its ON DELETE / ON UPDATE actions
-- ('a' no action, 'r' restrict, 'c' cascade, 'n' set null, 'd' set default) and the referenced
-- columns. TRUNCATE ... CASCADE empties the referencing tables; a cascading DELETE or UPDATE
-- changes their rows.
SELECT rn.nspname AS schema_name, r.relname AS table_name, con.conname,
       con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) AS k(num)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num) AS referenced_columns
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.confrelid
JOIN pg_namespace tn ON tn.oid = t.relnamespace
JOIN pg_class r ON r.oid = con.conrelid
JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE con.contype = 'f' AND tn.nspname = %(schema)s AND t.relname = %(table)s
ORDER BY rn.nspname, r.relname, con.conname
