-- Server facts the statement analysis depends on (version decides the ADD COLUMN DEFAULT rules).
SELECT current_setting('server_version_num')::int AS server_version_num,
       current_database() AS dbname,
       current_setting('lock_timeout') AS lock_timeout,
       current_setting('statement_timeout') AS statement_timeout
