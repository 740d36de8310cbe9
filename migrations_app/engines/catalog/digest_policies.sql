SELECT n.nspname AS schema, c.relname AS relation, pol.polname AS name,
       pol.polcmd::text AS command, pol.polpermissive AS permissive,
       (SELECT array_agg(r ORDER BY r) FROM unnest(pol.polroles::regrole[]::text[]) AS r) AS roles,
       pg_get_expr(pol.polqual, pol.polrelid) AS using_expr,
       pg_get_expr(pol.polwithcheck, pol.polrelid) AS check_expr
FROM pg_policy pol
JOIN pg_class c ON c.oid = pol.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
ORDER BY 1, 2, 3
