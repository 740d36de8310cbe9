-- Where pg_stat_statements is installed in the current database (NULL row set when it is not).
SELECT n.nspname AS extension_schema, e.extversion AS version
FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_stat_statements'
