-- Size, row estimate and write activity of the tables a plan touches, all in one round trip.
-- ``writes`` (inserted+updated+deleted tuples) and ``sampled_at`` are the first of two samples:
-- risk_write_sample reads the counters again and the rate is the difference over the interval
-- (a counter since the statistics reset would count a bulk load of long ago as today's traffic).
WITH wanted AS (
    SELECT DISTINCT schema_name, table_name
    FROM unnest(%(schemas)s::text[], %(tables)s::text[]) AS w(schema_name, table_name)
)
SELECT w.schema_name,
       w.table_name,
       c.oid::bigint AS oid,
       c.relkind::text AS relkind,
       c.reltuples::float8 AS reltuples,
       c.relpages::bigint AS relpages,
       pg_total_relation_size(c.oid) AS total_bytes,
       pg_relation_size(c.oid) AS heap_bytes,
       s.n_live_tup,
       COALESCE(s.n_tup_ins, 0) + COALESCE(s.n_tup_upd, 0) + COALESCE(s.n_tup_del, 0) AS writes,
       s.seq_scan,
       s.idx_scan,
       clock_timestamp() AS sampled_at,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid) AS index_count
FROM wanted w
JOIN pg_namespace n ON n.nspname = w.schema_name
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.table_name
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp_%%'
  AND n.nspname NOT LIKE 'pg_toast_temp_%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
