-- Heap and TOAST bytes of a table (no indexes): what a full copy of its rows costs, at most.
SELECT pg_table_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(table)s
