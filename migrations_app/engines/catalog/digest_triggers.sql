SELECT n.nspname AS schema, c.relname AS relation, tg.tgname AS name,
       pg_get_triggerdef(tg.oid) AS definition, tg.tgenabled::text AS enabled
FROM pg_trigger tg
JOIN pg_class c ON c.oid = tg.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
  AND NOT tg.tgisinternal
ORDER BY 1, 2, 3
