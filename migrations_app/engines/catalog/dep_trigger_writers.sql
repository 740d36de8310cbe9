-- The second (and last) round trip of a dependency analysis, run only when the drop breaks a
-- trigger function that triggers the drop leaves still run (dependencies/trigger_chains.py):
-- the routines that may write the tables those triggers are on. A routine that writes such a
-- table fails when its write fires the trigger. Chains are followed to a fixed point here, by
-- text: a trigger function whose body names a reached table may write it, so the tables its
-- own triggers are on are reached too. Generous (any case, substrings); the caller parses each
-- body and keeps only real writes that fire the trigger. Bodies have dep_analysis's row shape,
-- with the details of each trigger a routine runs (to follow the chain one level further).
-- %(triggers)s: the OIDs of the triggers that run a broken trigger function (the first query's
-- "triggers" keys); their details (events, UPDATE OF columns, level, WHEN) come back here, so
-- the first query, run on every analysis, stays as small as it was.
WITH RECURSIVE fired AS MATERIALIZED (
    SELECT t.oid, t.tgrelid, t.tgname, t.tgtype, t.tgenabled, t.tgqual, t.tgattr
    FROM unnest(%(triggers)s::text::oid[]) AS x(oid)
    JOIN pg_trigger t ON t.oid = x.oid
    WHERE t.tgenabled <> 'D'
),
reached (relid) AS (
    SELECT tgrelid FROM fired
    UNION
    SELECT t.tgrelid
    FROM reached r
    -- a write of a parent (partitioned or inheritance) table reaches its partitions' and children's rows
    CROSS JOIN LATERAL (SELECT r.relid UNION SELECT a.relid FROM pg_partition_ancestors(r.relid) a(relid)
                        UNION SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = r.relid) up (relid)
    JOIN pg_class c ON c.oid = up.relid
    JOIN pg_proc p ON p.prorettype = 'trigger'::regtype AND p.oid >= 16384
                  AND strpos(lower(p.prosrc), lower(c.relname)) > 0
    JOIN pg_trigger t ON t.tgfoid = p.oid AND NOT t.tgisinternal
),
needles AS MATERIALIZED (
    SELECT coalesce(array_agg(DISTINCT form), '{}') AS relations
    FROM reached r
    CROSS JOIN LATERAL (SELECT r.relid UNION SELECT a.relid FROM pg_partition_ancestors(r.relid) a(relid)
                        UNION SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = r.relid) up (relid)
    JOIN pg_class c ON c.oid = up.relid
    CROSS JOIN LATERAL (VALUES (lower(c.relname::text)), (replace(lower(c.relname::text), '"', '""')),
                               (replace(lower(c.relname::text), '''', ''''''))) f(form)
),
bodies AS (
    SELECT
           -- @include _routine_columns
           -- the triggers that run a trigger function (the caller keeps those the drop leaves),
           -- with the names they give their transition tables
           CASE WHEN p.prorettype = 'trigger'::regtype THEN (
               SELECT coalesce(json_agg(json_build_object(
                          'key', format('%%s:%%s:0', 'pg_trigger'::regclass::oid, t.oid), 'relid', t.tgrelid,
                          'old_table', t.tgoldtable, 'new_table', t.tgnewtable,
                          -- what a write must do to fire it (dependencies/trigger_chains.py reads these)
                          -- @include _trigger_facts
                          )), '[]')
               -- found through pg_depend's reference index (pg_trigger has no index on tgfoid: a
               -- scan per routine read every foreign key's internal triggers, 237 ms on 5,000 tables
               -- and 1,000 routines); every trigger depends on its function
               FROM pg_depend td JOIN pg_trigger t ON t.oid = td.objid
               JOIN pg_class tc ON tc.oid = t.tgrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
               WHERE td.refclassid = 'pg_proc'::regclass AND td.refobjid = p.oid AND td.refobjsubid = 0
                 AND td.classid = 'pg_trigger'::regclass AND t.tgfoid = p.oid AND NOT t.tgisinternal) END AS triggers
    -- @include _user_routines
      AND (EXISTS (SELECT 1 FROM unnest(needles.relations) AS form WHERE strpos(src.text, form) > 0)
           -- names spelled with escapes: only the parser can tell
           OR strpos(src.text, 'u&"') > 0 OR strpos(src.text, 'u&''') > 0
           OR (strpos(src.text, '\') > 0 AND strpos(src.text, 'e''') > 0))
)
SELECT (SELECT coalesce(json_agg(json_build_object(
                    'key', format('%%s:%%s:0', 'pg_trigger'::regclass::oid, t.oid), 'relid', t.tgrelid,
                    -- @include _trigger_facts
                    )), '[]')
          FROM fired t JOIN pg_class tc ON tc.oid = t.tgrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace) AS fired,
       (SELECT coalesce(json_agg(b ORDER BY b.schema, b.name, b.oid), '[]') FROM bodies b) AS bodies
