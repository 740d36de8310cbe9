-- INVALID indexes of a schema: a failed CREATE INDEX / REINDEX CONCURRENTLY leaves one behind.
SELECT ic.oid::bigint AS oid, n.nspname AS schema, ic.relname AS name
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE n.nspname = %(schema)s AND NOT i.indisvalid
