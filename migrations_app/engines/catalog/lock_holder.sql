-- The session that holds the advisory lock with this bigint key in the current database
-- (a bigint key shows as classid = high 32 bits, objid = low 32 bits, objsubid = 1).
SELECT l.pid AS backend_pid,
       a.application_name,
       a.client_addr::text AS client_addr,
       a.backend_start,
       a.state
FROM pg_locks AS l
LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory'
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = %(classid)s::bigint::oid
  AND l.objid = %(objid)s::bigint::oid
  AND l.objsubid = 1
  AND l.granted
