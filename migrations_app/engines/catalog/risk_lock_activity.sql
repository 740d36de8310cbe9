-- Sessions holding or waiting for a lock on the touched tables right now. An ACCESS EXCLUSIVE
-- request queues behind any of them, and every later query on the table queues behind it.
SELECT l.relation::bigint AS oid,
       a.pid,
       a.state,
       a.application_name,
       l.mode,
       l.granted,
       EXTRACT(epoch FROM now() - a.xact_start)::float8 AS xact_age_s,
       left(a.query, 200) AS query
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation'
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.relation = ANY(%(oids)s::oid[])
  AND a.pid <> pg_backend_pid()
ORDER BY a.xact_start NULLS LAST
