-- Databases on a server that carry the staging name prefix, with their comment (the marker).
SELECT d.datname AS database_name,
       shobj_description(d.oid, 'pg_database') AS marker
FROM pg_database d
WHERE starts_with(d.datname, %(prefix)s)
ORDER BY d.datname
