-- The functions a plan calls, by name: their volatility ('i' < 's' < 'v', the worst over overloads
-- is taken in Python) for column defaults, and, for user functions (not built in, not an
-- extension's), the body the statement policy judges: calling a function runs its body now.
SELECT p.proname AS function_name, p.provolatile::text AS volatility, n.nspname AS schema_name,
       l.lanname AS language, p.prosrc AS source,
       CASE WHEN n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prokind IN ('f', 'p')
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                 WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
            THEN pg_get_functiondef(p.oid) END AS definition
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE p.proname = ANY(%(names)s::text[])
