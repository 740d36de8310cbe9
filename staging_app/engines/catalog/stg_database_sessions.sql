-- Other sessions connected to a database: a staging copy still being written has one.
SELECT count(*) AS sessions
FROM pg_stat_activity
WHERE datname = %(dbname)s AND pid <> pg_backend_pid()
