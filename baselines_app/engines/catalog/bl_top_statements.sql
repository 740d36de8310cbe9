-- The current database's most expensive statements from pg_stat_statements (its schema is
-- bound as an identifier by the caller). Our own EXPLAIN runs and utility statements are left out.
SELECT s.queryid::text AS queryid,
       s.query,
       s.calls,
       s.mean_exec_time,
       s.stddev_exec_time,
       s.min_exec_time,
       s.max_exec_time
FROM {pgss}.pg_stat_statements s
WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
  AND s.toplevel
  AND s.query !~* '^\s*(explain|set|show|begin|commit|rollback|vacuum|analyze|create|alter|drop)\M'
ORDER BY s.total_exec_time DESC
LIMIT %(limit)s
