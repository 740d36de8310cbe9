-- Fragment _user_routines (included by a line naming it): the routines a body check can read: user-defined SQL and
-- PL/pgSQL functions and procedures with string bodies, not an extension's, not in a system schema;
-- the query adds its own conditions after it (AND ...). Aliases: p, src (the lower-cased body), n, l.
    FROM pg_proc p
    -- the lower-cased body once per routine (OFFSET 0: not once per test below)
    CROSS JOIN LATERAL (SELECT lower(p.prosrc) AS text OFFSET 0) src
    CROSS JOIN needles
    JOIN pg_namespace n ON n.oid = p.pronamespace
    JOIN pg_language l ON l.oid = p.prolang
    -- Objects created by initdb (pg_catalog, information_schema) have OIDs below
    -- FirstNormalObjectId (16384); user objects never do. This range on the OID index skips
    -- the ~3,000 built-in routines without reading their bodies; the schema tests stay.
    WHERE p.oid >= 16384
      AND l.lanname IN ('sql', 'plpgsql')
      AND p.prokind IN ('f', 'p')
      AND p.prosqlbody IS NULL
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\_toast%%'
      AND n.nspname NOT LIKE 'pg\_temp\_%%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend e
                      WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
