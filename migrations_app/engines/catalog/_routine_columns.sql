-- Fragment _routine_columns (included by a line naming it): the row shape of a candidate routine, shared by
-- dep_analysis and dep_trigger_writers (dependencies/bodies.py reads it).
           p.oid::int8 AS oid,
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
