-- Which names the plan's CREATE INDEX and ADD CONSTRAINT statements give are already taken, in one
-- round trip for every name of the plan: 'relation' requests look in the schema's pg_class (tables,
-- views, indexes and sequences share one namespace per schema; a PRIMARY KEY / UNIQUE / EXCLUDE
-- constraint's index takes the constraint's name there too), 'constraint' requests look at the
-- table's own constraints (constraint names are per table). ``owner_table``: the table an index
-- belongs to, or the constraint's table.
WITH wanted AS (
    SELECT DISTINCT kind, schema_name, table_name, name
    FROM unnest(%(kinds)s::text[], %(schemas)s::text[], %(tables)s::text[], %(names)s::text[])
         AS w(kind, schema_name, table_name, name)
)
SELECT w.kind, w.schema_name, w.table_name, w.name, c.relkind::text AS taken_by, owner.relname AS owner_table
FROM wanted w
JOIN pg_namespace n ON n.nspname = w.schema_name
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.name
LEFT JOIN pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_class owner ON owner.oid = i.indrelid
WHERE w.kind = 'relation'
UNION ALL
SELECT w.kind, w.schema_name, w.table_name, w.name, con.contype::text, t.relname
FROM wanted w
JOIN pg_namespace n ON n.nspname = w.schema_name
JOIN pg_class t ON t.relnamespace = n.oid AND t.relname = w.table_name
JOIN pg_constraint con ON con.conrelid = t.oid AND con.conname = w.name
WHERE w.kind = 'constraint'
