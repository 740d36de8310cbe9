-- One database's comment (the staging marker), if the database exists.
SELECT d.datname AS database_name,
       shobj_description(d.oid, 'pg_database') AS marker
FROM pg_database d
WHERE d.datname = %(dbname)s
