-- A whole column (column given) or table (column NULL) analysis in ONE round trip: the target
-- and the facts on the column itself, everything DROP ... CASCADE would remove with it (the
-- closure of pg_depend, walked the way PostgreSQL's findDependentObjects walks it), the edges
-- of that walk (the caller rebuilds view-on-view paths from them), and the candidate string
-- function bodies the caller parses. One statement, so one snapshot; every catalog read is an
-- indexed lookup by OID, except the scan of user-defined functions' bodies.
-- The target part is dep_target.sql (also used alone by the foreign key analyzer): keep them in step.
WITH RECURSIVE target AS MATERIALIZED (
SELECT c.oid AS relid,
       n.nspname AS schema,
       c.relname AS table_name,
       c.relkind::text AS relkind,
       a.attnum,
       a.attname,
       format_type(a.atttypid, a.atttypmod) AS column_type,
       a.attnotnull,
       a.attinhcount,
       a.attislocal,
       c.relispartition,
       -- only partitions and partitioned tables have partition keys: skip the lookups otherwise
       CASE WHEN c.relispartition OR c.relkind = 'p' THEN coalesce((
           SELECT array_agg(format('%%s.%%s', pn.nspname, pc.relname) ORDER BY anc.level)
           FROM pg_partition_ancestors(c.oid) WITH ORDINALITY AS anc(relid, level)
           JOIN pg_class pc ON pc.oid = anc.relid
           JOIN pg_namespace pn ON pn.oid = pc.relnamespace
           JOIN pg_attribute pa ON pa.attrelid = pc.oid AND pa.attname = a.attname AND NOT pa.attisdropped
           WHERE pc.relkind = 'p'
             AND EXISTS (SELECT 1 FROM pg_depend pd
                         WHERE pd.classid = 'pg_class'::regclass AND pd.objid = pc.oid
                           AND pd.objsubid = pa.attnum AND pd.refclassid = 'pg_class'::regclass
                           AND pd.refobjid = pc.oid AND pd.refobjsubid = 0 AND pd.deptype = 'i')
       ), '{}') ELSE '{}' END AS partition_key_of,
       CASE WHEN c.relispartition OR c.relkind = 'p' THEN
           (SELECT pg_get_partkeydef(pc.oid) FROM pg_partition_root(c.oid) AS root(oid)
              JOIN pg_class pc ON pc.oid = root.oid WHERE pc.relkind = 'p') END AS partition_key_def,
       -- the parents a column is inherited from (PostgreSQL refuses to drop an inherited column)
       CASE WHEN a.attinhcount > 0 THEN (
           SELECT array_agg(format('%%s.%%s', pn.nspname, pc.relname) ORDER BY pc.relname)
           FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
           JOIN pg_namespace pn ON pn.oid = pc.relnamespace
           WHERE i.inhrelid = c.oid) END AS inherited_from,
       -- for a table analysis (a drop or a rename): what a view under the old name must copy
       CASE WHEN %(column)s::text IS NULL THEN (
           SELECT coalesce(json_agg(json_build_object(
                      'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
                      'privilege', x.privilege_type, 'grantable', x.is_grantable)
                      ORDER BY x.grantee, x.privilege_type), '[]')
           FROM aclexplode(c.relacl) x WHERE x.grantee <> c.relowner) END AS privileges,
       c.relrowsecurity AS row_security,
       c.relhastriggers AS has_triggers,
       current_setting('server_version_num')::int AS server_version_num
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a
       ON a.attrelid = c.oid AND a.attname = %(column)s AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = %(schema)s
  AND c.relname = %(table)s
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
),
-- DROP COLUMN recurses to inheritance children and partitions: a child's copy of the column
-- goes too when it is inherited from this parent only and was not also declared locally.
dropped_columns (relid, attnum, parent_relid, parent_attnum) AS (
    SELECT relid, attnum, 0::oid, 0::int2 FROM target WHERE attnum IS NOT NULL
    UNION
    SELECT i.inhrelid, ca.attnum, dc.relid, dc.attnum
    FROM dropped_columns dc
    JOIN pg_inherits i ON i.inhparent = dc.relid
    JOIN pg_attribute pa ON pa.attrelid = dc.relid AND pa.attnum = dc.attnum
    JOIN pg_attribute ca ON ca.attrelid = i.inhrelid AND ca.attname = pa.attname AND NOT ca.attisdropped
    WHERE ca.attinhcount = 1 AND NOT ca.attislocal
),
-- Everything the drop removes. From each object reached: its dependents (normal, auto,
-- internal and partition dependencies on it, or on one of its columns when the whole object
-- goes), and the object it is internal to (reaching an index that implements a constraint,
-- or the rule that implements a view, drops that constraint or view). ref_subid keeps which
-- column of the object reached was referenced.
closure (classid, objid, objsubid, from_classid, from_objid, from_objsubid, ref_subid, how) AS (
    SELECT 'pg_class'::regclass::oid, relid, attnum::int4,
           CASE WHEN parent_relid = 0 THEN 0 ELSE 'pg_class'::regclass::oid END, parent_relid, parent_attnum::int4,
           parent_attnum::int4, CASE WHEN parent_relid = 0 THEN 'seed' ELSE 'inherit' END
    FROM dropped_columns
    UNION
    SELECT 'pg_class'::regclass::oid, relid, 0, 0::oid, 0::oid, 0, 0, 'seed' FROM target WHERE %(column)s::text IS NULL
    UNION
    SELECT step.classid, step.objid, step.objsubid, c.classid, c.objid, c.objsubid, step.ref_subid, step.how
    FROM closure c
    CROSS JOIN LATERAL (
        SELECT d.classid, d.objid, d.objsubid, d.refobjsubid AS ref_subid, d.deptype::text AS how
        FROM pg_depend d
        WHERE d.refclassid = c.classid AND d.refobjid = c.objid
          AND (c.objsubid = 0 OR d.refobjsubid = c.objsubid)
          AND d.deptype IN ('n', 'a', 'i', 'P', 'S')
        UNION ALL
        SELECT o.refclassid, o.refobjid, o.refobjsubid, o.refobjsubid, 'owner'
        FROM pg_depend o
        WHERE o.classid = c.classid AND o.objid = c.objid AND o.objsubid = c.objsubid AND o.deptype = 'i'
          -- a partition-key column is internal to its own table: PostgreSQL refuses that drop
          AND NOT (o.refclassid = c.classid AND o.refobjid = c.objid)
    ) step
),
-- the target itself (and, for a table, its columns) is what is being dropped, not a dependent
objects AS (
    SELECT DISTINCT classid, objid, objsubid FROM closure e
    WHERE how <> 'seed'
      AND NOT (e.classid = 'pg_class'::regclass AND e.objid = (SELECT relid FROM target)
               AND (%(column)s::text IS NULL OR e.objsubid = (SELECT attnum FROM target)))
),
-- which columns of the target each object uses directly (for a table analysis)
uses AS (
    SELECT e.classid, e.objid, e.objsubid, array_agg(DISTINCT a.attname::text) AS columns
    FROM closure e
    JOIN pg_attribute a ON a.attrelid = e.from_objid AND a.attnum = e.ref_subid
    WHERE e.from_classid = 'pg_class'::regclass AND e.from_objid = (SELECT relid FROM target) AND e.ref_subid > 0
    GROUP BY 1, 2, 3
),
dependents AS (
    -- relations: views, materialized views, indexes, sequences, partitions and inheritance children
    SELECT CASE WHEN n.nspname = 'pg_toast' OR c.relkind IN ('t', 'c') THEN 'PART'
                WHEN c.relkind IN ('v', 'm') THEN 'RELATION'
                WHEN c.relkind IN ('i', 'I') THEN 'INDEX'
                WHEN c.relkind = 'S' THEN 'SEQUENCE'
                WHEN c.relkind IN ('r', 'p', 'f') THEN 'TABLE'
                ELSE 'UNKNOWN' END AS kind,
           o.classid, o.objid, o.objsubid,
           n.nspname AS schema, c.relname::text AS name, tn.nspname AS table_schema, tc.relname::text AS table_name,
           tc.oid AS table_oid,
           CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid)
                WHEN c.relkind IN ('i', 'I') THEN pg_get_indexdef(c.oid)
                WHEN c.relkind = 'S' AND tc.oid IS NOT NULL THEN format('OWNED BY %%I.%%I', tn.nspname, tc.relname)
                WHEN c.relispartition THEN format('PARTITION OF %%s %%s',
                    (SELECT format('%%I.%%I', pn.nspname, pc.relname) FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
                       JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid),
                    pg_get_expr(c.relpartbound, c.oid))
                WHEN c.relkind IN ('r', 'p', 'f') THEN (
                    SELECT 'INHERITS (' || string_agg(format('%%I.%%I', pn.nspname, pc.relname), ', ') || ')'
                    FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
                    JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid)
                ELSE '' END AS definition,
           jsonb_build_object('relkind', c.relkind, 'partition', c.relispartition,
                              'unique', i.indisunique, 'primary', i.indisprimary,
                              'partial', i.indpred IS NOT NULL, 'expression', i.indexprs IS NOT NULL,
                              'partition_key', CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
                              'rows', CASE WHEN c.relkind IN ('r', 'p', 'm') THEN c.reltuples::int8 END) AS extra
    FROM objects o
    JOIN pg_class c ON o.classid = 'pg_class'::regclass AND o.objsubid = 0 AND c.oid = o.objid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_index i ON i.indexrelid = c.oid
    LEFT JOIN pg_depend owner ON c.relkind = 'S' AND owner.classid = 'pg_class'::regclass AND owner.objid = c.oid
                              AND owner.refclassid = 'pg_class'::regclass AND owner.deptype IN ('a', 'i')
    LEFT JOIN pg_class tc ON tc.oid = coalesce(i.indrelid, owner.refobjid,
                                               CASE WHEN c.relkind IN ('r', 'p', 'f', 'v', 'm') THEN c.oid END)
    LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
    UNION ALL
    -- columns of other relations (or of the target's children) that go: generated from the
    -- column, inherited copies, columns typed with the dropped row type
    SELECT CASE WHEN c.relkind = 'c' THEN 'TYPE_ATTRIBUTE' ELSE 'COLUMN' END,
           o.classid, o.objid, o.objsubid,
           n.nspname, a.attname::text, n.nspname, c.relname::text, c.oid,
           format_type(a.atttypid, a.atttypmod)
               || CASE WHEN a.attgenerated <> '' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(ad.adbin, ad.adrelid) || ') STORED' ELSE '' END,
           jsonb_build_object('relkind', c.relkind, 'generated', a.attgenerated <> '', 'inherited', a.attinhcount > 0,
                              'type', format_type(a.atttypid, a.atttypmod),
                              'partition', c.relispartition)
    FROM objects o
    JOIN pg_class c ON o.classid = 'pg_class'::regclass AND o.objsubid > 0 AND c.oid = o.objid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = o.objsubid
    LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
    UNION ALL
    SELECT 'RULE', o.classid, o.objid, o.objsubid, n.nspname, r.rulename::text, n.nspname, c.relname::text, c.oid,
           pg_get_ruledef(r.oid), jsonb_build_object('view_rule', r.rulename = '_RETURN')
    FROM objects o
    JOIN pg_rewrite r ON o.classid = 'pg_rewrite'::regclass AND r.oid = o.objid
    JOIN pg_class c ON c.oid = r.ev_class
    JOIN pg_namespace n ON n.oid = c.relnamespace
    UNION ALL
    SELECT 'CONSTRAINT', o.classid, o.objid, o.objsubid, n.nspname, con.conname::text,
           coalesce(tn.nspname, dn.nspname), coalesce(tc.relname::text, dt.typname::text), tc.oid,
           pg_get_constraintdef(con.oid),
           jsonb_build_object(
               'contype', con.contype,
               'domain', dt.typname,
               'inherited_copy', con.conparentid <> 0 OR NOT con.conislocal,
               'conrelid_is_target', con.conrelid = (SELECT relid FROM target),
               'confrelid_is_target', con.confrelid = (SELECT relid FROM target),
               'on_delete', con.confdeltype, 'on_update', con.confupdtype,
               'validated', con.convalidated, 'deferrable', con.condeferrable,
               'local_columns', (SELECT jsonb_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
               'referenced_schema', rn.nspname, 'referenced_table', rc.relname,
               'referenced_columns', (SELECT jsonb_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum))
    FROM objects o
    JOIN pg_constraint con ON o.classid = 'pg_constraint'::regclass AND con.oid = o.objid
    JOIN pg_namespace n ON n.oid = con.connamespace
    LEFT JOIN pg_class tc ON tc.oid = con.conrelid
    LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
    LEFT JOIN pg_type dt ON dt.oid = con.contypid
    LEFT JOIN pg_namespace dn ON dn.oid = dt.typnamespace
    LEFT JOIN pg_class rc ON rc.oid = con.confrelid
    LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    UNION ALL
    SELECT 'TRIGGER', o.classid, o.objid, o.objsubid, n.nspname, t.tgname::text, n.nspname, c.relname::text, c.oid,
           pg_get_triggerdef(t.oid),
           jsonb_build_object('function', format('%%s.%%s', fn.nspname, f.proname), 'has_when', t.tgqual IS NOT NULL,
                              'internal', t.tgisinternal, 'inherited_copy', t.tgparentid <> 0)
    FROM objects o
    JOIN pg_trigger t ON o.classid = 'pg_trigger'::regclass AND t.oid = o.objid
    JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_proc f ON f.oid = t.tgfoid
    JOIN pg_namespace fn ON fn.oid = f.pronamespace
    UNION ALL
    SELECT 'POLICY', o.classid, o.objid, o.objsubid, n.nspname, p.polname::text, n.nspname, c.relname::text, c.oid,
           concat_ws(' ', format('POLICY %%I ON %%I.%%I FOR %%s', p.polname, n.nspname, c.relname,
                                 CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                               WHEN 'd' THEN 'DELETE' ELSE 'ALL' END),
                     CASE WHEN p.polpermissive THEN NULL ELSE 'AS RESTRICTIVE' END,
                     'USING (' || pg_get_expr(p.polqual, p.polrelid) || ')',
                     'WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')'),
           jsonb_build_object('permissive', p.polpermissive)
    FROM objects o
    JOIN pg_policy p ON o.classid = 'pg_policy'::regclass AND p.oid = o.objid
    JOIN pg_class c ON c.oid = p.polrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    UNION ALL
    SELECT 'DEFAULT', o.classid, o.objid, o.objsubid, n.nspname, a.attname::text, n.nspname, c.relname::text, c.oid,
           pg_get_expr(ad.adbin, ad.adrelid),
           jsonb_build_object('generated', a.attgenerated <> '',
                              'column_object', format('%%s:%%s:%%s', 'pg_class'::regclass::oid, ad.adrelid, ad.adnum))
    FROM objects o
    JOIN pg_attrdef ad ON o.classid = 'pg_attrdef'::regclass AND ad.oid = o.objid
    JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    JOIN pg_class c ON c.oid = ad.adrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    UNION ALL
    SELECT 'STATISTICS', o.classid, o.objid, o.objsubid, n.nspname, s.stxname::text, tn.nspname, tc.relname::text, tc.oid,
           pg_get_statisticsobjdef(s.oid), '{}'
    FROM objects o
    JOIN pg_statistic_ext s ON o.classid = 'pg_statistic_ext'::regclass AND s.oid = o.objid
    JOIN pg_namespace n ON n.oid = s.stxnamespace
    JOIN pg_class tc ON tc.oid = s.stxrelid
    JOIN pg_namespace tn ON tn.oid = tc.relnamespace
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, o.classid, o.objid, o.objsubid,
           n.nspname, format('%%s(%%s)', p.proname, pg_get_function_identity_arguments(p.oid)), NULL, NULL, NULL,
           pg_get_functiondef(p.oid),
           jsonb_build_object('sql_standard_body', p.prosqlbody IS NOT NULL)
    FROM objects o
    JOIN pg_proc p ON o.classid = 'pg_proc'::regclass AND p.oid = o.objid
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p')
    UNION ALL
    SELECT 'PUBLICATION', o.classid, o.objid, o.objsubid, pub.pubname::text, pub.pubname::text, tn.nspname, tc.relname::text, tc.oid,
           concat_ws(' ', format('PUBLICATION %%I: TABLE %%I.%%I', pub.pubname, tn.nspname, tc.relname),
                     '(' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                             FROM pg_attribute a WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs)) || ')',
                     'WHERE (' || pg_get_expr(pr.prqual, pr.prrelid) || ')'),
           jsonb_build_object('publication', pub.pubname)
    FROM objects o
    JOIN pg_publication_rel pr ON o.classid = 'pg_publication_rel'::regclass AND pr.oid = o.objid
    JOIN pg_publication pub ON pub.oid = pr.prpubid
    JOIN pg_class tc ON tc.oid = pr.prrelid
    JOIN pg_namespace tn ON tn.oid = tc.relnamespace
    UNION ALL
    -- types: a dropped relation's row and array types are parts of it; a domain over the row
    -- type is a dependent of its own
    SELECT CASE WHEN t.typtype = 'd' THEN 'DOMAIN'
                WHEN t.typrelid <> 0 OR t.typelem <> 0 THEN 'PART'
                ELSE 'UNKNOWN' END,
           o.classid, o.objid, o.objsubid, n.nspname, t.typname::text, NULL, NULL, NULL,
           format_type(t.oid, NULL) || CASE WHEN t.typtype = 'd' THEN ' AS ' || format_type(t.typbasetype, t.typtypmod) ELSE '' END,
           jsonb_build_object('typtype', t.typtype)
    FROM objects o
    JOIN pg_type t ON o.classid = 'pg_type'::regclass AND t.oid = o.objid
    JOIN pg_namespace n ON n.oid = t.typnamespace
    UNION ALL
    -- anything of another kind: reported by name as an unknown dependent (fail closed)
    SELECT 'UNKNOWN', o.classid, o.objid, o.objsubid, '', pg_describe_object(o.classid, o.objid, o.objsubid), NULL, NULL, NULL,
           '', jsonb_build_object('catalog', o.classid::regclass::text)
    FROM objects o
    WHERE o.classid NOT IN ('pg_rewrite'::regclass, 'pg_constraint'::regclass, 'pg_class'::regclass,
                            'pg_trigger'::regclass, 'pg_policy'::regclass, 'pg_attrdef'::regclass,
                            'pg_statistic_ext'::regclass, 'pg_publication_rel'::regclass, 'pg_type'::regclass,
                            'pg_proc'::regclass)
       OR (o.classid = 'pg_proc'::regclass AND NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.oid = o.objid AND p.prokind IN ('f', 'p')))
),
-- names of every relation and column the drop removes: the candidate test for string bodies
dropped_names AS (
    SELECT DISTINCT lower(name) AS name FROM (
        SELECT attname::text AS name FROM target WHERE attname IS NOT NULL
        -- for a column too: INSERT without a column list and SELECT * into a record use every column
        UNION ALL SELECT table_name::text FROM target
        UNION ALL SELECT d.name FROM dependents d WHERE d.kind IN ('RELATION', 'TABLE', 'COLUMN')
    ) names
),
-- SQL and PL/pgSQL routines whose string bodies PostgreSQL does not track (SQL-standard
-- BEGIN ATOMIC bodies are tracked in pg_depend and come from "dependents"). The text test
-- only narrows the candidates; the caller parses each body with pglast to decide.
bodies AS (
    SELECT p.oid::int8 AS oid,
           n.nspname AS schema,
           p.proname AS name,
           p.prokind::text AS prokind,
           l.lanname AS language,
           p.prosrc AS body,
           pg_get_function_arguments(p.oid) AS arguments,
           pg_get_function_identity_arguments(p.oid) AS identity_arguments,
           CASE WHEN p.prokind = 'p' THEN NULL ELSE pg_get_function_result(p.oid) END AS result,
           -- argument names and the relation whose row type each argument has (0 for others)
           (SELECT coalesce(json_agg(json_build_object('name', an.name, 'mode', coalesce(am.mode, 'i'),
                                                       'relid', coalesce(at.typrelid, 0)) ORDER BY an.ord), '[]')
              FROM unnest(coalesce(p.proargnames, '{}'::text[])) WITH ORDINALITY AS an(name, ord)
              LEFT JOIN unnest(p.proargmodes) WITH ORDINALITY AS am(mode, ord) ON am.ord = an.ord
              LEFT JOIN unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS ty(oid, ord) ON ty.ord = an.ord
              LEFT JOIN pg_type at ON at.oid = ty.oid) AS args,
           coalesce(p.proconfig, '{}') AS config,
           EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgfoid = p.oid AND t.tgrelid = (SELECT relid FROM target)
                                               AND NOT t.tgisinternal) AS trigger_on_target
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    JOIN pg_language l ON l.oid = p.prolang
    -- Objects created by initdb (pg_catalog, information_schema) have OIDs below
    -- FirstNormalObjectId (16384); user objects never do. This range on the OID index skips
    -- the ~3,000 built-in routines without reading their bodies; the schema tests stay.
    WHERE p.oid >= 16384
      AND EXISTS (SELECT 1 FROM target)
      AND l.lanname IN ('sql', 'plpgsql')
      AND p.prokind IN ('f', 'p')
      AND p.prosqlbody IS NULL
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\_toast%%'
      AND n.nspname NOT LIKE 'pg\_temp\_%%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend e
                      WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
      -- routines the drop removes anyway (row-type arguments) are reported from "dependents"
      AND NOT EXISTS (SELECT 1 FROM objects o WHERE o.classid = 'pg_proc'::regclass AND o.objid = p.oid)
      AND (EXISTS (SELECT 1 FROM dropped_names dn
                   WHERE strpos(lower(p.prosrc), dn.name) > 0
                      -- a quoted identifier doubles its inner quotes ("a""b" names a"b), and so
                      -- does a string literal run by EXECUTE ('it''s')
                      OR strpos(lower(p.prosrc), replace(dn.name, '"', '""')) > 0
                      OR strpos(lower(p.prosrc), replace(dn.name, '''', '''''')) > 0)
           -- U&"d\0061ta" spells an identifier with escapes: only the parser can tell
           OR strpos(lower(p.prosrc), 'u&"') > 0)
)
SELECT (SELECT row_to_json(t) FROM target t) AS target,
       -- DROP COLUMN recursing into a child whose own partition key holds the column: refused
       (SELECT coalesce(json_agg(json_build_object('table', format('%%s.%%s', n.nspname, c.relname),
                                                   'key', pg_get_partkeydef(c.oid))), '[]')
          FROM dropped_columns dc
          JOIN pg_depend pd ON pd.classid = 'pg_class'::regclass AND pd.objid = dc.relid AND pd.objsubid = dc.attnum
                           AND pd.refclassid = 'pg_class'::regclass AND pd.refobjid = dc.relid
                           AND pd.refobjsubid = 0 AND pd.deptype = 'i'
          JOIN pg_class c ON c.oid = dc.relid
          JOIN pg_namespace n ON n.oid = c.relnamespace) AS partition_keys,
       (SELECT coalesce(json_agg(json_build_object(
                    'kind', d.kind, 'key', format('%%s:%%s:%%s', d.classid, d.objid, d.objsubid),
                    'schema', d.schema, 'name', d.name, 'table_schema', d.table_schema, 'table_name', d.table_name,
                    'on_target', d.table_oid = (SELECT relid FROM target), 'table_oid', d.table_oid,
                    'columns', u.columns, 'definition', d.definition, 'extra', d.extra)), '[]')
          FROM dependents d
          LEFT JOIN uses u ON u.classid = d.classid AND u.objid = d.objid AND u.objsubid = d.objsubid) AS dependents,
       (SELECT coalesce(json_agg(json_build_array(format('%%s:%%s:%%s', e.classid, e.objid, e.objsubid),
                                                  format('%%s:%%s:%%s', e.from_classid, e.from_objid, e.from_objsubid),
                                                  e.how)), '[]')
          FROM closure e) AS edges,
       (SELECT coalesce(json_agg(b ORDER BY b.schema, b.name, b.oid), '[]') FROM bodies b) AS bodies
