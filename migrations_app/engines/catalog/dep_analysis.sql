-- A whole column (column given) or table (column NULL) analysis in ONE round trip: the
-- target and the facts on the column itself, everything PostgreSQL records as depending on
-- it (pg_depend, plus views on views transitively with their path), and the candidate
-- string function bodies the caller parses. One statement, so one snapshot, and a constant
-- cost whatever the size of the schema: every catalog read is an indexed lookup by the
-- target's OID, except the scan of user-defined functions' bodies.
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
              JOIN pg_class pc ON pc.oid = root.oid WHERE pc.relkind = 'p') END AS partition_key_def
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a
       ON a.attrelid = c.oid AND a.attname = %(column)s AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = %(schema)s
  AND c.relname = %(table)s
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
),
direct AS (
    SELECT d.classid, d.objid,
           array_agg(DISTINCT a.attname::text) FILTER (WHERE a.attname IS NOT NULL) AS columns,
           bool_or(d.deptype = 'n') AS normal_dep
    FROM pg_depend d
    LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0
    WHERE d.refclassid = 'pg_class'::regclass
      AND d.refobjid = (SELECT relid FROM target)
      AND (d.refobjsubid = (SELECT attnum FROM target) OR %(column)s::text IS NULL)
      AND d.deptype IN ('n', 'a', 'i')
      -- the table's own row type, toast table and partition-key self-dependency are parts of the table
      AND NOT (d.classid = 'pg_class'::regclass AND d.objid = (SELECT relid FROM target))
      AND d.classid <> 'pg_type'::regclass
      AND NOT (d.classid = 'pg_class'::regclass
               AND EXISTS (SELECT 1 FROM pg_class tc WHERE tc.oid = d.objid AND tc.relkind = 't'))
    GROUP BY d.classid, d.objid
),
-- generated columns computed from the column: DROP ... CASCADE drops them too, and with
-- them the views that read them
generated AS (
    SELECT ad.adnum, format('%%s.%%s.%%s', n.nspname, c.relname, a.attname) AS label, a.attname::text AS attname
    FROM direct di
    JOIN pg_attrdef ad ON di.classid = 'pg_attrdef'::regclass AND ad.oid = di.objid
    JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    JOIN pg_class c ON c.oid = ad.adrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.attgenerated <> '' AND ad.adrelid = (SELECT relid FROM target) AND %(column)s::text IS NOT NULL AND ad.adnum <> (SELECT attnum FROM target)
),
view_seeds AS (
    SELECT di.objid AS rule_oid, ARRAY[]::text[] AS prefix, di.columns FROM direct di
    WHERE di.classid = 'pg_rewrite'::regclass
    UNION ALL
    SELECT d.objid, ARRAY[g.label], ARRAY[g.attname]
    FROM generated g
    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = (SELECT relid FROM target)
                    AND d.refobjsubid = g.adnum AND d.classid = 'pg_rewrite'::regclass
),
views (relid, path, depth, columns) AS (
    SELECT r.ev_class, s.prefix || format('%%s.%%s', vn.nspname, vc.relname), 1 + cardinality(s.prefix), s.columns
    FROM view_seeds s
    JOIN pg_rewrite r ON r.oid = s.rule_oid AND r.rulename = '_RETURN'
    JOIN pg_class vc ON vc.oid = r.ev_class
    JOIN pg_namespace vn ON vn.oid = vc.relnamespace
    WHERE r.ev_class <> (SELECT relid FROM target)
    UNION ALL
    SELECT r.ev_class, v.path || format('%%s.%%s', vn.nspname, vc.relname), v.depth + 1, v.columns
    FROM views v
    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = v.relid
                    AND d.classid = 'pg_rewrite'::regclass
    JOIN pg_rewrite r ON r.oid = d.objid AND r.rulename = '_RETURN'
    JOIN pg_class vc ON vc.oid = r.ev_class
    JOIN pg_namespace vn ON vn.oid = vc.relnamespace
    WHERE r.ev_class <> v.relid
      AND NOT format('%%s.%%s', vn.nspname, vc.relname) = ANY (v.path)
      AND v.depth < 64
),
nearest_views AS (
    SELECT DISTINCT ON (relid) relid, path, depth, columns FROM views ORDER BY relid, depth, path
),
dependents AS (
    SELECT CASE c.relkind WHEN 'm' THEN 'MATERIALIZED_VIEW' ELSE 'VIEW' END AS kind,
           n.nspname AS schema, c.relname AS name, n.nspname AS table_schema, c.relname AS table_name,
           v.columns, pg_get_viewdef(c.oid) AS definition, v.path, v.depth,
           '{}'::jsonb AS extra
    FROM nearest_views v
    JOIN pg_class c ON c.oid = v.relid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    UNION ALL
    SELECT CASE
             WHEN r.rulename = '_RETURN' THEN 'SKIP'  -- views are reported above, with their path
             ELSE 'RULE' END,
           n.nspname, r.rulename, n.nspname, c.relname, di.columns, pg_get_ruledef(r.oid), '{}', 1, '{}'
    FROM direct di
    JOIN pg_rewrite r ON di.classid = 'pg_rewrite'::regclass AND r.oid = di.objid
    JOIN pg_class c ON c.oid = r.ev_class
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT (r.rulename = '_RETURN')
    UNION ALL
    SELECT 'CONSTRAINT', n.nspname, con.conname, tn.nspname, tc.relname, di.columns,
           pg_get_constraintdef(con.oid), '{}', 1,
           jsonb_build_object(
               'contype', con.contype,
               'conrelid_is_target', con.conrelid = (SELECT relid FROM target),
               'confrelid_is_target', con.confrelid = (SELECT relid FROM target),
               'on_delete', con.confdeltype, 'on_update', con.confupdtype,
               'validated', con.convalidated, 'deferrable', con.condeferrable,
               'local_columns', (SELECT jsonb_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
               'referenced_schema', rn.nspname, 'referenced_table', rc.relname,
               'referenced_columns', (SELECT jsonb_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum))
    FROM direct di
    JOIN pg_constraint con ON di.classid = 'pg_constraint'::regclass AND con.oid = di.objid
    JOIN pg_namespace n ON n.oid = con.connamespace
    JOIN pg_class tc ON tc.oid = con.conrelid
    JOIN pg_namespace tn ON tn.oid = tc.relnamespace
    LEFT JOIN pg_class rc ON rc.oid = con.confrelid
    LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    WHERE con.conparentid = 0  -- a partition's copy of its parent's constraint is reported as the parent's
    UNION ALL
    SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'i' THEN 'INDEX' WHEN 'I' THEN 'INDEX' ELSE 'RELATION:' || c.relkind::text END,
           n.nspname, c.relname, tn.nspname, tc.relname, di.columns,
           CASE WHEN c.relkind IN ('i', 'I') THEN pg_get_indexdef(c.oid)
                ELSE format('OWNED BY %%I.%%I', tn.nspname, tc.relname) END,
           '{}', 1,
           jsonb_build_object('unique', i.indisunique, 'primary', i.indisprimary,
                              'partial', i.indpred IS NOT NULL, 'expression', i.indexprs IS NOT NULL,
                              -- through pg_depend (indexed) rather than pg_constraint.conindid (not indexed)
                              'constraint', (SELECT con.conname FROM pg_depend x
                                             JOIN pg_constraint con ON con.oid = x.refobjid AND con.contype IN ('p', 'u', 'x')
                                             WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid
                                               AND x.refclassid = 'pg_constraint'::regclass AND x.deptype = 'i' LIMIT 1))
    FROM direct di
    JOIN pg_class c ON di.classid = 'pg_class'::regclass AND c.oid = di.objid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_index i ON i.indexrelid = c.oid
    LEFT JOIN pg_depend owner ON c.relkind = 'S' AND owner.classid = 'pg_class'::regclass AND owner.objid = c.oid
                              AND owner.refclassid = 'pg_class'::regclass AND owner.deptype IN ('a', 'i')
    LEFT JOIN pg_class tc ON tc.oid = coalesce(i.indrelid, owner.refobjid)
    LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
    UNION ALL
    SELECT 'TRIGGER', n.nspname, t.tgname, n.nspname, c.relname, di.columns, pg_get_triggerdef(t.oid), '{}', 1,
           jsonb_build_object('function', format('%%s.%%s', fn.nspname, f.proname), 'has_when', t.tgqual IS NOT NULL)
    FROM direct di
    JOIN pg_trigger t ON di.classid = 'pg_trigger'::regclass AND t.oid = di.objid
    JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_proc f ON f.oid = t.tgfoid
    JOIN pg_namespace fn ON fn.oid = f.pronamespace
    WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'POLICY', n.nspname, p.polname, n.nspname, c.relname, di.columns,
           concat_ws(' ', format('POLICY %%I ON %%I.%%I FOR %%s', p.polname, n.nspname, c.relname,
                                 CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                               WHEN 'd' THEN 'DELETE' ELSE 'ALL' END),
                     CASE WHEN p.polpermissive THEN NULL ELSE 'AS RESTRICTIVE' END,
                     'USING (' || pg_get_expr(p.polqual, p.polrelid) || ')',
                     'WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')'),
           '{}', 1, jsonb_build_object('permissive', p.polpermissive)
    FROM direct di
    JOIN pg_policy p ON di.classid = 'pg_policy'::regclass AND p.oid = di.objid
    JOIN pg_class c ON c.oid = p.polrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    UNION ALL
    SELECT CASE WHEN a.attgenerated <> '' THEN 'GENERATED_COLUMN' ELSE 'DEFAULT' END,
           n.nspname, a.attname, n.nspname, c.relname, di.columns, pg_get_expr(ad.adbin, ad.adrelid), '{}', 1,
           jsonb_build_object('own_column', ad.adrelid = (SELECT relid FROM target) AND ad.adnum = (SELECT attnum FROM target))
    FROM direct di
    JOIN pg_attrdef ad ON di.classid = 'pg_attrdef'::regclass AND ad.oid = di.objid
    JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    JOIN pg_class c ON c.oid = ad.adrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    UNION ALL
    SELECT 'STATISTICS', n.nspname, s.stxname, tn.nspname, tc.relname, di.columns, pg_get_statisticsobjdef(s.oid), '{}', 1, '{}'
    FROM direct di
    JOIN pg_statistic_ext s ON di.classid = 'pg_statistic_ext'::regclass AND s.oid = di.objid
    JOIN pg_namespace n ON n.oid = s.stxnamespace
    JOIN pg_class tc ON tc.oid = s.stxrelid
    JOIN pg_namespace tn ON tn.oid = tc.relnamespace
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
           n.nspname, format('%%s(%%s)', p.proname, pg_get_function_identity_arguments(p.oid)), NULL, NULL,
           di.columns, pg_get_functiondef(p.oid), '{}', 1, jsonb_build_object('sql_standard_body', true)
    FROM direct di
    JOIN pg_proc p ON di.classid = 'pg_proc'::regclass AND p.oid = di.objid
    JOIN pg_namespace n ON n.oid = p.pronamespace
    UNION ALL
    SELECT 'PUBLICATION', pub.pubname, pub.pubname, tn.nspname, tc.relname, di.columns,
           concat_ws(' ', format('PUBLICATION %%I: TABLE %%I.%%I', pub.pubname, tn.nspname, tc.relname),
                     '(' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                             FROM pg_attribute a WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs)) || ')',
                     'WHERE (' || pg_get_expr(pr.prqual, pr.prrelid) || ')'),
           '{}', 1, jsonb_build_object('publication', pub.pubname)
    FROM direct di
    JOIN pg_publication_rel pr ON di.classid = 'pg_publication_rel'::regclass AND pr.oid = di.objid
    JOIN pg_publication pub ON pub.oid = pr.prpubid
    JOIN pg_class tc ON tc.oid = pr.prrelid
    JOIN pg_namespace tn ON tn.oid = tc.relnamespace
    UNION ALL
    -- anything of another kind: reported by name so the caller refuses to guess (fail closed)
    SELECT 'UNKNOWN', '', pg_describe_object(di.classid, di.objid, 0), NULL, NULL, di.columns, '', '{}', 1, '{}'
    FROM direct di
    WHERE di.classid NOT IN ('pg_rewrite'::regclass, 'pg_constraint'::regclass, 'pg_class'::regclass,
                             'pg_trigger'::regclass, 'pg_policy'::regclass, 'pg_attrdef'::regclass,
                             'pg_statistic_ext'::regclass, 'pg_proc'::regclass, 'pg_publication_rel'::regclass)
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
      AND (strpos(lower(p.prosrc), lower(%(needle)s)) > 0
           -- a quoted identifier doubles its inner quotes ("a""b" names a"b), and so
           -- does a string literal run by EXECUTE ('it''s')
           OR strpos(lower(p.prosrc), lower(replace(%(needle)s, '"', '""'))) > 0
           OR strpos(lower(p.prosrc), lower(replace(%(needle)s, '''', ''''''))) > 0
           -- U&"d\0061ta" spells an identifier with escapes: only the parser can tell
           OR strpos(lower(p.prosrc), 'u&"') > 0)
)
SELECT (SELECT row_to_json(t) FROM target t) AS target,
       (SELECT coalesce(json_agg(d), '[]') FROM dependents d) AS dependents,
       (SELECT coalesce(json_agg(b ORDER BY b.schema, b.name, b.oid), '[]') FROM bodies b) AS bodies
