-- What DROP COLUMN takes with it besides the values: NOT NULL, the indexes that do not back a
-- constraint (pg_get_indexdef) and every constraint (also multi-column ones) that names it.
SELECT a.attnotnull,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
             WHERE i.indrelid = c.oid
               AND (a.attnum = ANY(i.indkey::int2[])
                    OR pg_get_expr(i.indexprs, i.indrelid) ~ ('\m' || a.attname || '\M')
                    OR pg_get_expr(i.indpred, i.indrelid) ~ ('\m' || a.attname || '\M'))
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = c.oid)
             ORDER BY i.indexrelid::regclass::text) AS index_definitions,
       COALESCE((SELECT json_agg(json_build_object('name', k.conname, 'definition', pg_get_constraintdef(k.oid))
                                 ORDER BY k.conname)
                 FROM pg_constraint k WHERE k.conrelid = c.oid AND a.attnum = ANY(k.conkey)
                   AND k.contype IN ('c', 'u', 'f', 'p', 'x')), '[]'::json) AS constraints
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(table)s AND a.attname = %(column)s AND NOT a.attisdropped
