-- Whether an index exists and is valid: the catalog effect of CREATE / DROP INDEX CONCURRENTLY,
-- for an autocommit segment whose 'done' row is missing.
SELECT i.indisvalid AS valid
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(name)s
