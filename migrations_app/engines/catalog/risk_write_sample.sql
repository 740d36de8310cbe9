-- Second sample of the write counters of the tables a plan touches (the first is in
-- risk_table_facts); the caller waits the sampling interval in between.
SELECT s.relid::bigint AS oid,
       COALESCE(s.n_tup_ins, 0) + COALESCE(s.n_tup_upd, 0) + COALESCE(s.n_tup_del, 0) AS writes,
       clock_timestamp() AS sampled_at
FROM pg_stat_user_tables s
WHERE s.relid = ANY(%(oids)s::oid[])
