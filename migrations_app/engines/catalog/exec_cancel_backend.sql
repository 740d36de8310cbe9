-- Emergency stop: cancel the executing backend, but only if that pid still belongs to the
-- execution (its application_name), so a reused pid is never cancelled by mistake.
SELECT a.pid, pg_cancel_backend(a.pid) AS cancelled, a.state, left(a.query, 200) AS query
FROM pg_stat_activity AS a
WHERE a.pid = %(pid)s
  AND a.application_name = %(application_name)s
