-- Session-level: held until pg_advisory_unlock or the end of the lock connection's session.
SELECT pg_try_advisory_lock(%(key)s) AS acquired, pg_backend_pid() AS backend_pid
