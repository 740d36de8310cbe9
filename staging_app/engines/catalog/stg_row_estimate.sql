-- Planner row estimate of a top-level table: its own reltuples, or for a partitioned table
-- the sum over its leaf partitions. reltuples is -1 before the first ANALYZE.
SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint AS estimate
FROM pg_class c
WHERE (c.oid = %(oid)s AND c.relkind = 'r')
   OR c.oid IN (SELECT relid FROM pg_partition_tree(%(oid)s::oid::regclass) WHERE isleaf)
