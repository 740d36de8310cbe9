-- SQL and PL/pgSQL functions and procedures whose string bodies PostgreSQL does not track,
-- narrowed to those whose text mentions the name we look for (the caller parses each body
-- with pglast to decide; this filter only keeps the parse work small). SQL-standard bodies
-- (BEGIN ATOMIC) are tracked in pg_depend and come from dep_dependents.sql instead.
SELECT p.oid,
       n.nspname AS schema,
       p.proname AS name,
       p.prokind::text AS prokind,
       l.lanname AS language,
       p.prosrc AS body,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_identity_arguments(p.oid) AS identity_arguments,
       CASE WHEN p.prokind = 'p' THEN NULL ELSE pg_get_function_result(p.oid) END AS result,
       coalesce(p.proconfig, '{}') AS config,
       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgfoid = p.oid AND t.tgrelid = %(relid)s
                                           AND NOT t.tgisinternal) AS trigger_on_target
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE l.lanname IN ('sql', 'plpgsql')
  AND p.prokind IN ('f', 'p')
  AND p.prosqlbody IS NULL
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%%'
  AND n.nspname NOT LIKE 'pg\_temp\_%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
  AND strpos(lower(p.prosrc), lower(%(needle)s)) > 0
ORDER BY n.nspname, p.proname, p.oid
