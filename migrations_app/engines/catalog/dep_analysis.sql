-- A whole column (column given) or table (column NULL) analysis in ONE round trip: the target
-- and the facts on the column itself, everything DROP ... CASCADE would remove with it (the
-- closure of pg_depend, walked the way PostgreSQL's findDependentObjects walks it), the edges
-- of that walk (the caller rebuilds view-on-view paths from them), and the candidate string
-- function bodies the caller parses. One statement, so one snapshot; every catalog read is an
-- indexed lookup by OID, except the scan of user-defined functions' bodies.
WITH RECURSIVE target AS MATERIALIZED (
SELECT c.oid AS relid,
       n.nspname AS schema,
       c.relname AS table_name,
       c.relkind::text AS relkind,
       c.reltype,
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
-- One row per object, classified in one pass over the catalogs (a left join per catalog, by
-- OID): a single scan keeps the plan small, which is most of the cost of this query.
dependents AS (
    SELECT o.classid, o.objid, o.objsubid, d.kind,
           CASE d.kind
               WHEN 'RELATION' THEN c.relname WHEN 'INDEX' THEN c.relname WHEN 'SEQUENCE' THEN c.relname
               WHEN 'TABLE' THEN c.relname WHEN 'COLUMN' THEN a.attname WHEN 'TYPE_ATTRIBUTE' THEN a.attname
               WHEN 'RULE' THEN rw.rulename WHEN 'CONSTRAINT' THEN con.conname WHEN 'TRIGGER' THEN tg.tgname
               WHEN 'POLICY' THEN pol.polname WHEN 'DEFAULT' THEN ada.attname WHEN 'STATISTICS' THEN stx.stxname
               WHEN 'FUNCTION' THEN format('%%s(%%s)', p.proname, pg_get_function_identity_arguments(p.oid))
               WHEN 'PROCEDURE' THEN format('%%s(%%s)', p.proname, pg_get_function_identity_arguments(p.oid))
               WHEN 'PUBLICATION' THEN pub.pubname WHEN 'DOMAIN' THEN ty.typname WHEN 'PART' THEN ''
               ELSE pg_describe_object(o.classid, o.objid, o.objsubid) END AS name,
           CASE WHEN d.kind = 'PUBLICATION' THEN pub.pubname
                WHEN d.kind IN ('UNKNOWN', 'PART') THEN ''
                WHEN d.kind IN ('COLUMN', 'TYPE_ATTRIBUTE', 'RULE', 'TRIGGER', 'POLICY', 'DEFAULT') THEN tn.nspname
                ELSE obn.nspname END AS schema,
           coalesce(tn.nspname, dn.nspname) AS table_schema,
           coalesce(tc.relname, dt.typname) AS table_name,
           tc.oid AS table_oid,
           CASE d.kind
               WHEN 'RELATION' THEN pg_get_viewdef(c.oid)
               WHEN 'INDEX' THEN CASE WHEN (  -- an index implementing a constraint is shown as the constraint
                   SELECT x.objid FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid
                      AND x.objsubid = 0 AND x.refclassid = 'pg_constraint'::regclass AND x.deptype = 'i' LIMIT 1) IS NULL
                   THEN pg_get_indexdef(c.oid) END
               WHEN 'SEQUENCE' THEN CASE WHEN tc.oid IS NOT NULL THEN format('OWNED BY %%I.%%I', tn.nspname, tc.relname) END
               WHEN 'TABLE' THEN (
                   SELECT CASE WHEN c.relispartition
                               THEN 'PARTITION OF ' || string_agg(format('%%I.%%I', pn.nspname, pc.relname), ', ')
                                    || ' ' || pg_get_expr(c.relpartbound, c.oid)
                               ELSE 'INHERITS (' || string_agg(format('%%I.%%I', pn.nspname, pc.relname), ', ') || ')' END
                   FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
                   JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid)
               WHEN 'COLUMN' THEN format_type(a.atttypid, a.atttypmod)
                   || CASE WHEN a.attgenerated <> '' THEN ' GENERATED ALWAYS AS (' || (
                          SELECT pg_get_expr(x.adbin, x.adrelid) FROM pg_attrdef x
                          WHERE x.adrelid = a.attrelid AND x.adnum = a.attnum) || ') STORED' ELSE '' END
               WHEN 'TYPE_ATTRIBUTE' THEN format_type(a.atttypid, a.atttypmod)
               WHEN 'RULE' THEN pg_get_ruledef(rw.oid)
               WHEN 'CONSTRAINT' THEN pg_get_constraintdef(con.oid)
               WHEN 'TRIGGER' THEN pg_get_triggerdef(tg.oid)
               WHEN 'POLICY' THEN concat_ws(' ',
                   format('POLICY %%I ON %%I.%%I FOR %%s', pol.polname, tn.nspname, tc.relname,
                          CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                          WHEN 'd' THEN 'DELETE' ELSE 'ALL' END),
                   CASE WHEN pol.polpermissive THEN NULL ELSE 'AS RESTRICTIVE' END,
                   'USING (' || pg_get_expr(pol.polqual, pol.polrelid) || ')',
                   'WITH CHECK (' || pg_get_expr(pol.polwithcheck, pol.polrelid) || ')')
               WHEN 'DEFAULT' THEN pg_get_expr(ad.adbin, ad.adrelid)
               WHEN 'STATISTICS' THEN pg_get_statisticsobjdef(stx.oid)
               WHEN 'FUNCTION' THEN pg_get_functiondef(p.oid)
               WHEN 'PROCEDURE' THEN pg_get_functiondef(p.oid)
               WHEN 'PUBLICATION' THEN concat_ws(' ', format('PUBLICATION %%I: TABLE %%I.%%I', pub.pubname, tn.nspname, tc.relname),
                   '(' || (SELECT string_agg(quote_ident(x.attname), ', ' ORDER BY x.attnum)
                           FROM pg_attribute x WHERE x.attrelid = pr.prrelid AND x.attnum = ANY (pr.prattrs)) || ')',
                   'WHERE (' || pg_get_expr(pr.prqual, pr.prrelid) || ')')
               WHEN 'DOMAIN' THEN format_type(ty.oid, NULL) || ' AS ' || format_type(ty.typbasetype, ty.typtypmod)
               ELSE '' END AS definition,
           CASE d.kind
               WHEN 'CONSTRAINT' THEN jsonb_build_object(
                   'contype', con.contype, 'domain', dt.typname,
                   'conrelid_is_target', con.conrelid = (SELECT relid FROM target),
                   'confrelid_is_target', con.confrelid = (SELECT relid FROM target),
                   'on_delete', con.confdeltype, 'on_update', con.confupdtype,
                   'validated', con.convalidated, 'deferrable', con.condeferrable,
                   'local_columns', (SELECT jsonb_agg(x.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                                     JOIN pg_attribute x ON x.attrelid = con.conrelid AND x.attnum = k.attnum),
                   'referenced_schema', (SELECT rn.nspname FROM pg_class rc JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                                         WHERE rc.oid = con.confrelid),
                   'referenced_table', (SELECT rc.relname FROM pg_class rc WHERE rc.oid = con.confrelid),
                   'referenced_columns', (SELECT jsonb_agg(x.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                                          JOIN pg_attribute x ON x.attrelid = con.confrelid AND x.attnum = k.attnum))
               WHEN 'INDEX' THEN jsonb_build_object('unique', i.indisunique, 'primary', i.indisprimary,
                   'partial', i.indpred IS NOT NULL, 'expression', i.indexprs IS NOT NULL)
               WHEN 'RELATION' THEN jsonb_build_object('relkind', c.relkind)
               WHEN 'TABLE' THEN jsonb_build_object('relkind', c.relkind, 'partition', c.relispartition,
                   'partition_key', CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
                   'rows', c.reltuples::int8)
               WHEN 'COLUMN' THEN jsonb_build_object('generated', a.attgenerated <> '', 'inherited', a.attinhcount > 0,
                   'type', format_type(a.atttypid, a.atttypmod))
               WHEN 'RULE' THEN jsonb_build_object('view_rule', rw.rulename = '_RETURN')
               WHEN 'TRIGGER' THEN jsonb_build_object('internal', tg.tgisinternal, 'has_when', tg.tgqual IS NOT NULL,
                   'function', tg.tgfoid::regproc::text)
               WHEN 'POLICY' THEN jsonb_build_object('permissive', pol.polpermissive)
               WHEN 'DEFAULT' THEN jsonb_build_object('generated', ada.attgenerated <> '',
                   'column_object', format('%%s:%%s:%%s', 'pg_class'::regclass::oid, ad.adrelid, ad.adnum))
               WHEN 'FUNCTION' THEN jsonb_build_object('sql_standard_body', p.prosqlbody IS NOT NULL)
               WHEN 'PROCEDURE' THEN jsonb_build_object('sql_standard_body', p.prosqlbody IS NOT NULL)
               WHEN 'PUBLICATION' THEN jsonb_build_object('publication', pub.pubname)
               WHEN 'UNKNOWN' THEN jsonb_build_object('catalog', o.classid::regclass::text)
               ELSE '{}'::jsonb END AS extra
    -- lateral lookups by OID (OFFSET 0 keeps each one an index probe per object: the planner
    -- would otherwise hash whole catalogs for the few objects a drop reaches)
    FROM objects o
    LEFT JOIN LATERAL (SELECT * FROM pg_class x WHERE o.classid = 'pg_class'::regclass AND x.oid = o.objid OFFSET 0) c ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_attribute x WHERE o.classid = 'pg_class'::regclass AND o.objsubid > 0
                       AND x.attrelid = o.objid AND x.attnum = o.objsubid OFFSET 0) a ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_index x WHERE c.relkind IN ('i', 'I') AND o.objsubid = 0
                       AND x.indexrelid = o.objid OFFSET 0) i ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_rewrite x WHERE o.classid = 'pg_rewrite'::regclass AND x.oid = o.objid OFFSET 0) rw ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_constraint x WHERE o.classid = 'pg_constraint'::regclass AND x.oid = o.objid OFFSET 0) con ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_trigger x WHERE o.classid = 'pg_trigger'::regclass AND x.oid = o.objid OFFSET 0) tg ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_policy x WHERE o.classid = 'pg_policy'::regclass AND x.oid = o.objid OFFSET 0) pol ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_attrdef x WHERE o.classid = 'pg_attrdef'::regclass AND x.oid = o.objid OFFSET 0) ad ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_attribute x WHERE x.attrelid = ad.adrelid AND x.attnum = ad.adnum OFFSET 0) ada ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_statistic_ext x WHERE o.classid = 'pg_statistic_ext'::regclass AND x.oid = o.objid OFFSET 0) stx ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_proc x WHERE o.classid = 'pg_proc'::regclass AND x.oid = o.objid OFFSET 0) p ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_publication_rel x WHERE o.classid = 'pg_publication_rel'::regclass AND x.oid = o.objid OFFSET 0) pr ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_publication x WHERE x.oid = pr.prpubid OFFSET 0) pub ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_type x WHERE o.classid = 'pg_type'::regclass AND x.oid = o.objid OFFSET 0) ty ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_type x WHERE x.oid = con.contypid OFFSET 0) dt ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_namespace x WHERE x.oid = dt.typnamespace OFFSET 0) dn ON true
    LEFT JOIN LATERAL (SELECT x.refobjid FROM pg_depend x WHERE c.relkind = 'S' AND x.classid = 'pg_class'::regclass
                       AND x.objid = c.oid AND x.objsubid = 0 AND x.refclassid = 'pg_class'::regclass
                       AND x.deptype IN ('a', 'i') LIMIT 1) owner ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_class x WHERE x.oid = coalesce(i.indrelid, owner.refobjid, con.conrelid, tg.tgrelid,
                           pol.polrelid, rw.ev_class, ad.adrelid, stx.stxrelid, pr.prrelid,
                           CASE WHEN c.relkind IN ('r', 'p', 'f', 'v', 'm') OR o.objsubid > 0 THEN c.oid END) OFFSET 0) tc ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_namespace x WHERE x.oid = tc.relnamespace OFFSET 0) tn ON true
    LEFT JOIN LATERAL (SELECT * FROM pg_namespace x WHERE x.oid = coalesce(c.relnamespace, con.connamespace,
                           stx.stxnamespace, p.pronamespace, ty.typnamespace) OFFSET 0) obn ON true
    CROSS JOIN LATERAL (SELECT CASE
        WHEN c.oid IS NOT NULL AND o.objsubid = 0 THEN
            CASE WHEN obn.nspname = 'pg_toast' OR c.relkind IN ('t', 'c') THEN 'PART'
                 WHEN c.relkind IN ('v', 'm') THEN 'RELATION' WHEN c.relkind IN ('i', 'I') THEN 'INDEX'
                 WHEN c.relkind = 'S' THEN 'SEQUENCE' WHEN c.relkind IN ('r', 'p', 'f') THEN 'TABLE' ELSE 'UNKNOWN' END
        WHEN a.attrelid IS NOT NULL THEN CASE WHEN c.relkind = 'c' THEN 'TYPE_ATTRIBUTE' ELSE 'COLUMN' END
        -- a view's own rule is the view, and a key's internal triggers are the key: parts, whose
        -- definitions would cost a deparse each for nothing
        WHEN rw.oid IS NOT NULL THEN CASE WHEN rw.rulename = '_RETURN' THEN 'PART' ELSE 'RULE' END
        WHEN con.oid IS NOT NULL THEN 'CONSTRAINT'
        WHEN tg.oid IS NOT NULL THEN CASE WHEN tg.tgisinternal THEN 'PART' ELSE 'TRIGGER' END
        WHEN pol.oid IS NOT NULL THEN 'POLICY'
        WHEN ad.oid IS NOT NULL THEN 'DEFAULT'
        WHEN stx.oid IS NOT NULL THEN 'STATISTICS'
        WHEN p.prokind = 'p' THEN 'PROCEDURE'
        WHEN p.prokind = 'f' THEN 'FUNCTION'
        WHEN pr.oid IS NOT NULL THEN 'PUBLICATION'
        WHEN ty.typtype = 'd' THEN 'DOMAIN'
        WHEN ty.typrelid <> 0 OR ty.typelem <> 0 THEN 'PART'
        ELSE 'UNKNOWN' END AS kind) d
),
-- The candidate test for string bodies. A body can only use a column through a relation it
-- names (the table, or a view, partition or child the drop reaches), except through NEW/OLD
-- in a trigger function on the table or an argument of the table's row type: so a body must
-- name one of these relations, or be such a routine and name the column. Generous (any case,
-- substrings), with every spelling computed once: a quoted identifier doubles its inner
-- quotes ("a""b" names a"b), and so does a string literal run by EXECUTE ('it''s').
needles AS MATERIALIZED (
    SELECT (SELECT coalesce(array_agg(DISTINCT form), '{}')
              FROM (SELECT lower(table_name::text) AS name FROM target
                    UNION SELECT lower(d.name) FROM dependents d WHERE d.kind IN ('RELATION', 'TABLE')
                    UNION SELECT lower(d.table_name) FROM dependents d WHERE d.kind = 'COLUMN') n
              CROSS JOIN LATERAL (VALUES (n.name), (replace(n.name, '"', '""')), (replace(n.name, '''', ''''''))) f(form)
           ) AS relations,
           (SELECT coalesce(array_agg(DISTINCT form), '{}')
              FROM (SELECT lower(attname::text) AS name FROM target WHERE attname IS NOT NULL) n
              CROSS JOIN LATERAL (VALUES (n.name), (replace(n.name, '"', '""')), (replace(n.name, '''', ''''''))) f(form)
           ) AS columns,
           (SELECT coalesce(array_agg(t.tgfoid), '{}') FROM pg_trigger t
             WHERE t.tgrelid = (SELECT relid FROM target)) AS trigger_functions
),
-- SQL and PL/pgSQL routines whose string bodies PostgreSQL does not track (SQL-standard
-- BEGIN ATOMIC bodies are tracked in pg_depend and come from "dependents"). The text test
-- only narrows the candidates; the caller parses each body with pglast to decide.
bodies AS (
    SELECT
           -- @include _routine_columns
           -- the triggers that run a trigger function (the caller keeps those the drop leaves),
           -- with the names they give their transition tables
           CASE WHEN p.prorettype = 'trigger'::regtype THEN (
               SELECT coalesce(json_agg(json_build_object(
                          'key', format('%%s:%%s:0', 'pg_trigger'::regclass::oid, t.oid), 'relid', t.tgrelid,
                          'old_table', t.tgoldtable, 'new_table', t.tgnewtable)), '[]')
               -- found through pg_depend's reference index (pg_trigger has no index on tgfoid: a
               -- scan per routine read every foreign key's internal triggers, 237 ms on 5,000 tables
               -- and 1,000 routines); every trigger depends on its function
               FROM pg_depend td JOIN pg_trigger t ON t.oid = td.objid
               WHERE td.refclassid = 'pg_proc'::regclass AND td.refobjid = p.oid AND td.refobjsubid = 0
                 AND td.classid = 'pg_trigger'::regclass AND t.tgfoid = p.oid AND NOT t.tgisinternal) END AS triggers
    -- @include _user_routines
      AND EXISTS (SELECT 1 FROM target)
      -- routines the drop removes anyway (row-type arguments) are reported from "dependents"
      AND NOT EXISTS (SELECT 1 FROM objects o WHERE o.classid = 'pg_proc'::regclass AND o.objid = p.oid)
      AND (EXISTS (SELECT 1 FROM unnest(needles.relations) AS form WHERE strpos(src.text, form) > 0)
           OR ((p.oid = ANY (needles.trigger_functions)
                OR (SELECT reltype FROM target) = ANY (coalesce(p.proallargtypes, p.proargtypes::oid[])))
               AND EXISTS (SELECT 1 FROM unnest(needles.columns) AS form WHERE strpos(src.text, form) > 0))
           -- U&"d\0061ta" and U&'...' spell names with escapes, and so can an E'...' string run
           -- by EXECUTE: only the parser can tell
           OR strpos(src.text, 'u&"') > 0 OR strpos(src.text, 'u&''') > 0
           OR (strpos(src.text, '\') > 0 AND strpos(src.text, 'e''') > 0))
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
