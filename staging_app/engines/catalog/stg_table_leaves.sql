-- The heap relations that hold each top-level table's rows: the table itself, or the leaf
-- partitions of a partitioned table (foreign partitions are left out: their rows live on
-- another server), with their size in pages, which decides the sampling method of each.
-- (pg_partition_tree returns nothing for a table that is not partitioned.)
SELECT r.oid::bigint AS table_oid,
       c.oid::bigint AS leaf_oid,
       n.nspname AS schema_name,
       c.relname AS leaf_name,
       (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::bigint AS pages
FROM unnest(%(oids)s::oid[]) AS root(oid)
JOIN pg_class r ON r.oid = root.oid
CROSS JOIN LATERAL (SELECT r.oid AS relid WHERE r.relkind = 'r'
                    UNION ALL
                    SELECT tree.relid FROM pg_partition_tree(r.oid) AS tree WHERE r.relkind = 'p') AS heap
JOIN pg_class c ON c.oid = heap.relid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
ORDER BY 1, 2
