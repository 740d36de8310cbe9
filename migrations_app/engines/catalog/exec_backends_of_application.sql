-- Backends still running for one execution (its application_name): after a worker died, the
-- server ends them once it notices the closed socket.
SELECT a.pid, a.state, a.xact_start
FROM pg_stat_activity AS a
WHERE a.application_name = %(application_name)s
