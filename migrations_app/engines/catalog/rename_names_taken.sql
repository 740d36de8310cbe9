-- Which of the candidate names are already taken in the schema: by a relation (table, view,
-- index, sequence, ...) or by a type (a table's row type shares its name, so a free-standing
-- type of that name also blocks ALTER TABLE ... RENAME).
SELECT c.relname AS name, 'relation ' || c.relkind::text AS taken_by
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = ANY (%(names)s::text[])
UNION ALL
SELECT t.typname, 'type'
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = %(schema)s AND t.typname = ANY (%(names)s::text[])
  AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid)
