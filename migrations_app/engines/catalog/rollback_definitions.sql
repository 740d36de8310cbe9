-- Current definitions of the objects a plan drops, so their rollback rebuilds them as they are:
-- indexes, constraints, views and materialized views, routines, triggers and policies, with
-- what PostgreSQL keeps beside them (comments, grants, owner, a view's triggers and rules, a
-- materialized view's indexes). One row per match; a routine request may match several
-- overloads (the caller refuses to guess), any request may match none.
--
-- pg_get_*def and pg_get_expr qualify a name only when the reading session's search_path cannot
-- see it; the rollback runs in the executor's session (plan schema first), so the text is read
-- with only pg_catalog on the path and the session's own path is put back by the same statement.
-- Each level below is an OFFSET 0 fence: its row exists before the level above is evaluated
-- (read the path, pin it, read the definitions, restore it). A failing statement aborts its
-- transaction, which undoes the pin as well.
--
-- Unqualified argument types of DROP FUNCTION resolve like the executor's session would:
-- pg_catalog, then the plan's schema, then public.
WITH wanted AS (
    SELECT *
    FROM jsonb_to_recordset(%(wanted)s::jsonb)
        AS w(key text, kind text, schema_name text, table_name text, object_name text,
             plan_schema text, routine_kinds text, args jsonb)
),
grants AS (
    -- non-default privileges of an ACL, grouped per grantee (the owner's own rights are implied)
    SELECT acl.acl_text, e.grantee, e.is_grantable, string_agg(e.privilege_type, ', ' ORDER BY e.privilege_type) AS privileges
    FROM (SELECT DISTINCT c.relacl::text AS acl_text, c.relacl AS acl, c.relowner AS owner
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN wanted w ON w.kind = 'view'
               AND n.nspname = w.schema_name AND c.relname = w.object_name AND c.relacl IS NOT NULL
          UNION
          SELECT DISTINCT p.proacl::text, p.proacl, p.proowner
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN wanted w ON w.kind = 'routine'
               AND n.nspname = w.schema_name AND p.proname = w.object_name AND p.proacl IS NOT NULL) acl
    CROSS JOIN LATERAL aclexplode(acl.acl) e
    WHERE e.grantee <> acl.owner
    GROUP BY acl.acl_text, e.grantee, e.is_grantable
),
found AS (
    SELECT w.key,
           json_build_object(
               'definition', pg_get_indexdef(ic.oid),
               'index', quote_ident(n.nspname) || '.' || quote_ident(ic.relname),
               'table', quote_ident(tn.nspname) || '.' || quote_ident(t.relname),
               'table_name', t.relname,
               'table_rows', t.reltuples::float8,
               'table_bytes', pg_total_relation_size(t.oid),
               'partitioned', ic.relkind = 'I',
               'valid', i.indisvalid,
               'clustered', i.indisclustered,
               'tablespace', quote_ident(ts.spcname),
               'constraint', (SELECT con.conname FROM pg_constraint con
                              WHERE con.conindid = ic.oid AND con.conrelid = t.oid AND con.contype IN ('p', 'u', 'x')
                              LIMIT 1),
               'comment', obj_description(ic.oid, 'pg_class')) AS found
    FROM wanted w
    JOIN pg_namespace n ON n.nspname = w.schema_name
    JOIN pg_class ic ON ic.relnamespace = n.oid AND ic.relname = w.object_name AND ic.relkind IN ('i', 'I')
    JOIN pg_index i ON i.indexrelid = ic.oid
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_namespace tn ON tn.oid = t.relnamespace
    LEFT JOIN pg_tablespace ts ON ts.oid = ic.reltablespace
    WHERE w.kind = 'index'

    UNION ALL
    SELECT w.key,
           json_build_object(
               'definition', pg_get_constraintdef(con.oid),
               'type', con.contype::text,
               'table', quote_ident(n.nspname) || '.' || quote_ident(t.relname),
               'table_rows', t.reltuples::float8,
               'table_bytes', pg_total_relation_size(t.oid),
               'inherited', NOT con.conislocal,
               'comment', obj_description(con.oid, 'pg_constraint'),
               'referencing', COALESCE((
                   SELECT json_agg(json_build_object(
                              'table', quote_ident(fn.nspname) || '.' || quote_ident(ft.relname),
                              'name', fk.conname, 'definition', pg_get_constraintdef(fk.oid),
                              'comment', obj_description(fk.oid, 'pg_constraint'))
                          ORDER BY fn.nspname, ft.relname, fk.conname)
                   FROM pg_constraint fk
                   JOIN pg_class ft ON ft.oid = fk.conrelid
                   JOIN pg_namespace fn ON fn.oid = ft.relnamespace
                   WHERE con.contype IN ('p', 'u') AND fk.contype = 'f' AND fk.confrelid = con.conrelid
                     AND fk.conindid = con.conindid AND fk.conparentid = 0), '[]'::json))
    FROM wanted w
    JOIN pg_namespace n ON n.nspname = w.schema_name
    JOIN pg_class t ON t.relnamespace = n.oid AND t.relname = w.table_name
    JOIN pg_constraint con ON con.conrelid = t.oid AND con.conname = w.object_name
    WHERE w.kind = 'constraint'

    UNION ALL
    SELECT w.key,
           json_build_object(
               'relkind', c.relkind::text,
               'view', quote_ident(n.nspname) || '.' || quote_ident(c.relname),
               'definition', pg_get_viewdef(c.oid),
               'options', COALESCE((SELECT json_agg(json_build_object('name', o.option_name, 'value', o.option_value)
                                                    ORDER BY o.position)
                                    FROM pg_options_to_table(c.reloptions) WITH ORDINALITY
                                         AS o(option_name, option_value, position)), '[]'::json),
               'populated', c.relispopulated,
               'tablespace', quote_ident(ts.spcname),
               'comment', obj_description(c.oid, 'pg_class'),
               'column_comments', COALESCE((
                   SELECT json_agg(json_build_object('column', quote_ident(a.attname), 'comment', d.description)
                                   ORDER BY a.attnum)
                   FROM pg_attribute a
                   JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
                   WHERE a.attrelid = c.oid AND a.attnum > 0), '[]'::json),
               'column_defaults', COALESCE((
                   SELECT json_agg(json_build_object('column', quote_ident(a.attname),
                                                     'default', pg_get_expr(ad.adbin, ad.adrelid)) ORDER BY a.attnum)
                   FROM pg_attrdef ad JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
                   WHERE ad.adrelid = c.oid), '[]'::json),
               'owner', quote_ident(pg_get_userbyid(c.relowner)),
               'owner_is_current_user', pg_get_userbyid(c.relowner) = current_user,
               'grants', COALESCE((
                   SELECT json_agg(json_build_object(
                              'grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
                              'privileges', g.privileges, 'grantable', g.is_grantable)
                          ORDER BY g.grantee, g.is_grantable)
                   FROM grants g WHERE g.acl_text = c.relacl::text), '[]'::json),
               'indexes', COALESCE((SELECT json_agg(pg_get_indexdef(x.indexrelid) ORDER BY x.indexrelid)
                                    FROM pg_index x WHERE x.indrelid = c.oid), '[]'::json),
               'triggers', COALESCE((SELECT json_agg(pg_get_triggerdef(tg.oid) ORDER BY tg.tgname)
                                     FROM pg_trigger tg WHERE tg.tgrelid = c.oid AND NOT tg.tgisinternal), '[]'::json),
               'rules', COALESCE((SELECT json_agg(pg_get_ruledef(r.oid) ORDER BY r.rulename)
                                  FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN'), '[]'::json))
    FROM wanted w
    JOIN pg_namespace n ON n.nspname = w.schema_name
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.object_name AND c.relkind IN ('v', 'm')
    LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
    WHERE w.kind = 'view'

    UNION ALL
    SELECT w.key,
           json_build_object(
               'definition', pg_get_functiondef(p.oid),
               'prokind', p.prokind::text,
               'signature', quote_ident(n.nspname) || '.' || quote_ident(p.proname)
                            || '(' || pg_get_function_identity_arguments(p.oid) || ')',
               'comment', obj_description(p.oid, 'pg_proc'),
               'owner', quote_ident(pg_get_userbyid(p.proowner)),
               'owner_is_current_user', pg_get_userbyid(p.proowner) = current_user,
               'default_acl', p.proacl IS NULL,
               'grants', COALESCE((
                   SELECT json_agg(json_build_object(
                              'grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
                              'privileges', g.privileges, 'grantable', g.is_grantable)
                          ORDER BY g.grantee, g.is_grantable)
                   FROM grants g WHERE g.acl_text = p.proacl::text), '[]'::json))
    FROM wanted w
    JOIN pg_namespace n ON n.nspname = w.schema_name
    JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = w.object_name
                  AND strpos(w.routine_kinds, p.prokind::text) > 0
    WHERE w.kind = 'routine'
      -- oidvector's text is its oids separated by spaces; an argument type that does not resolve
      -- becomes '?' and matches nothing
      AND (w.args IS NULL OR p.proargtypes::text = (
          SELECT COALESCE(array_to_string(array_agg((
                     SELECT CASE WHEN (a.arg ->> 'array')::boolean THEN t.typarray ELSE t.oid END
                     FROM pg_type t
                     JOIN pg_namespace tn ON tn.oid = t.typnamespace
                     WHERE t.typname = a.arg ->> 'name'
                       AND CASE WHEN a.arg ->> 'schema' IS NULL
                                THEN tn.nspname IN ('pg_catalog', w.plan_schema, 'public')
                                ELSE tn.nspname = a.arg ->> 'schema' END
                     ORDER BY array_position(ARRAY['pg_catalog', w.plan_schema, 'public']::text[], tn.nspname::text)
                     LIMIT 1) ORDER BY a.ord), ' ', '?'), '')
          FROM jsonb_array_elements(w.args) WITH ORDINALITY AS a(arg, ord)))

    UNION ALL
    SELECT w.key,
           json_build_object(
               'definition', pg_get_triggerdef(tg.oid),
               'table', quote_ident(n.nspname) || '.' || quote_ident(t.relname),
               'enabled', tg.tgenabled::text,
               'comment', obj_description(tg.oid, 'pg_trigger'))
    FROM wanted w
    JOIN pg_namespace n ON n.nspname = w.schema_name
    JOIN pg_class t ON t.relnamespace = n.oid AND t.relname = w.table_name
    JOIN pg_trigger tg ON tg.tgrelid = t.oid AND tg.tgname = w.object_name AND NOT tg.tgisinternal
    WHERE w.kind = 'trigger'

    UNION ALL
    SELECT w.key,
           json_build_object(
               'table', quote_ident(n.nspname) || '.' || quote_ident(t.relname),
               'permissive', pol.polpermissive,
               'command', pol.polcmd::text,
               'roles', COALESCE((SELECT json_agg(CASE WHEN r.role = 0 THEN 'PUBLIC'
                                                       ELSE quote_ident(pg_get_userbyid(r.role)) END ORDER BY r.ord)
                                  FROM unnest(pol.polroles) WITH ORDINALITY AS r(role, ord)), '[]'::json),
               'using', pg_get_expr(pol.polqual, pol.polrelid),
               'with_check', pg_get_expr(pol.polwithcheck, pol.polrelid),
               'comment', obj_description(pol.oid, 'pg_policy'))
    FROM wanted w
    JOIN pg_namespace n ON n.nspname = w.schema_name
    JOIN pg_class t ON t.relnamespace = n.oid AND t.relname = w.table_name
    JOIN pg_policy pol ON pol.polrelid = t.oid AND pol.polname = w.object_name
    WHERE w.kind = 'policy'
)
SELECT set_config('search_path', fenced.previous, false) IS NOT NULL AS restored,
       fenced.definitions
FROM (
    SELECT pinned.previous,
           (SELECT COALESCE(json_agg(json_build_object('key', f.key, 'found', f.found)), '[]'::json)
            FROM found f
            WHERE pinned.pin IS NOT NULL) AS definitions
    FROM (
        SELECT before.previous, set_config('search_path', 'pg_catalog', false) AS pin
        FROM (SELECT current_setting('search_path') AS previous OFFSET 0) before
        OFFSET 0
    ) pinned
    OFFSET 0
) fenced
