-- Server facts the statement analysis depends on (version decides the ADD COLUMN DEFAULT rules).
SELECT current_setting('server_version_num')::int AS server_version_num,
       current_database() AS dbname,
       current_setting('lock_timeout') AS lock_timeout,
       current_setting('statement_timeout') AS statement_timeout,
       -- the second write sample must see the counters again, not this transaction's cached copy
       CASE WHEN current_setting('server_version_num')::int >= 150000
            THEN set_config('stats_fetch_consistency', 'none', true) END AS stats_fetch_consistency
