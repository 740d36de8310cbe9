-- Columns of one table, with what an INSERT copying an existing row must know about them:
-- defaults, identity, generated, primary key membership and unique-index membership
-- (including columns used only inside a unique expression index such as lower(email)).
SELECT a.attname AS column_name,
       a.attnum AS position,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
       t.typcategory::text AS type_category,
       a.attnotnull AS not_null,
       a.atthasdef AS has_default,
       a.attidentity::text AS identity,
       a.attgenerated::text AS generated,
       EXISTS (
           SELECT 1 FROM pg_catalog.pg_index i
           WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey::smallint[])
       ) AS in_primary_key,
       EXISTS (
           SELECT 1 FROM pg_catalog.pg_index i
           WHERE i.indrelid = c.oid AND i.indisunique AND NOT i.indisprimary
             AND (a.attnum = ANY (i.indkey::smallint[])
                  OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                             WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = i.indexrelid
                               AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = c.oid
                               AND d.refobjsubid = a.attnum))
       ) AS in_unique_index
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
WHERE n.nspname = %(schema)s
  AND c.relname = %(table)s
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum
