-- User functions and procedures whose body mentions one of the given names. PostgreSQL does
-- not track these references (pg_depend ignores function bodies), so a rename or drop breaks
-- them silently; the caller checks word boundaries on the candidates.
SELECT n.nspname AS schema_name, p.proname AS function_name, p.prokind::text AS kind, w.name AS mentioned,
       p.prosrc AS body
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN unnest(%(names)s::text[]) AS w(name) ON position(lower(w.name) IN lower(p.prosrc)) > 0
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_temp_%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
ORDER BY n.nspname, p.proname
