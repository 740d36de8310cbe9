-- Who else is connected to a database (CREATE DATABASE ... TEMPLATE needs it to be nobody).
SELECT pid, COALESCE(NULLIF(application_name, ''), 'unnamed') AS application_name, state
FROM pg_stat_activity
WHERE datname = %(dbname)s AND pid <> pg_backend_pid()
ORDER BY pid
