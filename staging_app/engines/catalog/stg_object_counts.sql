-- Object counts compared between production and the staging copy (user schemas only,
-- extension members excluded). Partitions count as tables.
WITH user_ns AS (
    SELECT oid FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema')
      AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp\_%'
), user_rel AS (
    SELECT c.oid, c.relkind FROM pg_class c
    WHERE c.relnamespace IN (SELECT oid FROM user_ns)
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
)
SELECT
    (SELECT count(*) FROM user_rel WHERE relkind IN ('r', 'p')) AS tables,
    (SELECT count(*) FROM pg_constraint WHERE contype IN ('p', 'u', 'c', 'x')
        AND conrelid IN (SELECT oid FROM user_rel)) AS constraints,
    (SELECT count(*) FROM pg_constraint WHERE contype = 'f'
        AND conrelid IN (SELECT oid FROM user_rel)) AS foreign_keys,
    (SELECT count(*) FROM user_rel WHERE relkind IN ('i', 'I')) AS indexes,
    (SELECT count(*) FROM user_rel WHERE relkind = 'v') AS views,
    (SELECT count(*) FROM user_rel WHERE relkind = 'm') AS materialized_views,
    (SELECT count(*) FROM user_rel WHERE relkind = 'S') AS sequences,
    (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal
        AND tgrelid IN (SELECT oid FROM user_rel)) AS triggers,
    (SELECT count(*) FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM user_ns)
        AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')) AS functions,
    (SELECT count(*) FROM pg_policy WHERE polrelid IN (SELECT oid FROM user_rel)) AS policies
