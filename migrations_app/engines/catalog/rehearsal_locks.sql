-- Relation locks held (or awaited) by one backend, for the rehearsal's lock sampler.
-- pg_locks is shared memory, not MVCC: a second session sees the executing session's locks at
-- once. Relations created by the still-open transaction have no visible pg_class row yet
-- (LEFT JOIN: they show with their oid only). Catalog and toast relations are left out.
SELECT l.relation::bigint AS oid,
       n.nspname AS schema_name,
       c.relname AS relation_name,
       c.relkind::text AS relkind,
       l.mode,
       l.granted
FROM pg_locks l
LEFT JOIN pg_class c ON c.oid = l.relation
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.pid = %(pid)s
  AND l.locktype = 'relation'
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND (n.nspname IS NULL
       OR (n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_toast'
           AND n.nspname !~ '^pg_temp'))
