-- For each view a DELETE / UPDATE's WHERE reads (by oid), every view it reads in turn (itself
-- too), with its definition (LIMIT, TABLESAMPLE... are read from it; a NULL name is the view itself)
-- and the volatile functions it calls. Both come from the stored query tree of the view's rule
-- (relation, function, operator, aggregate and window function ids), not from pg_depend, which
-- records no dependency on built-in objects (random(), pg_stat_activity).
WITH RECURSIVE reached(root, oid, depth) AS (
    SELECT v, v, 0 FROM unnest(%(views)s::oid[]) AS v
    UNION
    SELECT r.root, c.oid, r.depth + 1
    FROM reached r
    JOIN pg_rewrite w ON w.ev_class = r.oid
    CROSS JOIN LATERAL regexp_matches(w.ev_action::text, ':relid (\d+)', 'g') AS m(id)
    JOIN pg_class c ON c.oid = m.id[1]::oid AND c.relkind = 'v' AND c.oid <> r.oid
    WHERE r.depth < 32
)
SELECT r.root,
       CASE WHEN vc.oid <> r.root THEN format('%%I.%%I', vn.nspname, vc.relname) END AS view_name,
       pg_get_viewdef(vc.oid) AS definition,
       ARRAY(SELECT DISTINCT format('%%I.%%I()', fn.nspname, f.proname)
             FROM pg_rewrite w
             CROSS JOIN LATERAL regexp_matches(w.ev_action::text,
                                               ':(funcid|opfuncid|aggfnoid|winfnoid|opno) (\d+)', 'g') AS m(id)
             LEFT JOIN pg_operator o ON m.id[1] = 'opno' AND o.oid = m.id[2]::oid
             JOIN pg_proc f ON f.oid = CASE WHEN m.id[1] = 'opno' THEN o.oprcode::oid ELSE m.id[2]::oid END
             JOIN pg_namespace fn ON fn.oid = f.pronamespace
             WHERE w.ev_class = vc.oid AND f.provolatile = 'v'
             ORDER BY 1) AS volatile_calls
FROM (SELECT DISTINCT root, oid FROM reached) r
JOIN pg_class vc ON vc.oid = r.oid
JOIN pg_namespace vn ON vn.oid = vc.relnamespace
ORDER BY r.root, view_name NULLS FIRST
