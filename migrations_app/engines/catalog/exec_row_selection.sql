-- What the WHERE clauses of a plan's DELETE / UPDATE statements call and read, in one read, to
-- decide whether each picks its rows the same way twice (a rollback backup copies them first):
-- - 'function': every function of those names in the given schemas, with its argument counts and
--   volatility ('i' immutable, 's' stable, 'v' volatile); overloads are resolved in Python
-- - 'operator': the operators of those names there, with the volatility of their function ('b' for
--   the built-in ones: none is volatile, and no other can be created in pg_catalog)
-- - 'relation': every relation of those names there, with its relkind and oid (views are read
--   further by exec_view_selection, only when a WHERE reads one)
SELECT 'function' AS kind, n.nspname::text AS schema_name, p.proname::text AS name,
       p.pronargs::int AS nargs, p.pronargdefaults::int AS ndefaults, p.provariadic <> 0 AS variadic,
       p.provolatile::text AS detail, NULL::oid AS relid
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.proname = ANY(%(functions)s::text[]) AND n.nspname = ANY(%(schemas)s::text[])
UNION ALL
SELECT DISTINCT 'operator', n.nspname::text, o.oprname::text, 0, 0, false,
       CASE WHEN o.oprnamespace = 'pg_catalog'::regnamespace THEN 'b'
            ELSE (SELECT p.provolatile::text FROM pg_proc p WHERE p.oid = o.oprcode) END, NULL::oid
FROM pg_operator o
JOIN pg_namespace n ON n.oid = o.oprnamespace
WHERE o.oprname = ANY(%(operators)s::text[]) AND n.nspname = ANY(%(schemas)s::text[])
UNION ALL
SELECT 'relation', n.nspname::text, c.relname::text, 0, 0, false, c.relkind::text, c.oid
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = ANY(%(relations)s::text[]) AND n.nspname = ANY(%(schemas)s::text[])
