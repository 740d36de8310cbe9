-- Transactions open longer than the threshold: an ACCESS EXCLUSIVE request queues behind them.
SELECT pid,
       usename                                   AS username,
       application_name,
       state,
       extract(epoch FROM (clock_timestamp() - xact_start))::int AS seconds_open,
       left(query, 500)                          AS query
FROM pg_stat_activity
WHERE datname = current_database()
  AND xact_start IS NOT NULL
  AND pid <> pg_backend_pid()
  AND clock_timestamp() - xact_start > make_interval(secs => %(threshold_seconds)s)
ORDER BY xact_start
