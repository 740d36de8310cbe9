-- Fragment _trigger_facts (included by a line naming it): what a write must do to fire trigger t (on table tc in schema
-- tn), as json_build_object arguments (dependencies/trigger_chains.py reads them); the query closes
-- the object after it.
'name', t.tgname, 'schema', tn.nspname, 'table', tc.relname, 'type', t.tgtype,
'enabled', t.tgenabled, 'has_when', t.tgqual IS NOT NULL,
'columns', (SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
            WHERE a.attrelid = t.tgrelid AND a.attnum = ANY (t.tgattr::int2[])),
'generated', EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.tgrelid
                     AND a.attnum = ANY (t.tgattr::int2[]) AND a.attgenerated <> ''),
-- a write of a partitioned or parent table reaches its partitions' and children's rows
'above', (SELECT json_agg(json_build_array(un.nspname, uc.relname))
          FROM (SELECT x.relid FROM pg_partition_ancestors(t.tgrelid) x(relid)
                WHERE x.relid <> t.tgrelid
                UNION SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = t.tgrelid) up
          JOIN pg_class uc ON uc.oid = up.relid
          JOIN pg_namespace un ON un.oid = uc.relnamespace)
