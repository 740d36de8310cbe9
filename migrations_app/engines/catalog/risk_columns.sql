-- Every column of the touched tables with what a rollback needs to recreate it exactly:
-- type (with modifiers), default, nullability, identity/generation, collation and the
-- single-column constraints (CHECK, UNIQUE, FOREIGN KEY) that mention it.
SELECT n.nspname AS schema_name,
       c.relname AS table_name,
       a.attname AS column_name,
       a.attnum,
       format_type(a.atttypid, a.atttypmod) AS type_sql,
       bt.typname AS base_type,
       a.atttypmod,
       a.attnotnull,
       pg_get_expr(ad.adbin, ad.adrelid) AS default_sql,
       a.attidentity::text AS identity,
       a.attgenerated::text AS generated,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN quote_ident(coll.collname) END AS collation,
       COALESCE((
           SELECT json_agg(json_build_object('name', con.conname, 'type', con.contype::text,
                                             'definition', pg_get_constraintdef(con.oid)) ORDER BY con.conname)
           FROM pg_constraint con
           WHERE con.conrelid = c.oid AND con.conkey = ARRAY[a.attnum] AND con.contype IN ('c', 'u', 'f')
       ), '[]'::json) AS constraints
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
LEFT JOIN pg_collation coll ON coll.oid = a.attcollation
WHERE c.oid = ANY(%(oids)s::oid[])
ORDER BY n.nspname, c.relname, a.attnum
