-- A real round trip on the lock connection: it is alive and still holds the lock.
SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND pid = pg_backend_pid()
      AND classid = %(classid)s::bigint::oid AND objid = %(objid)s::bigint::oid
      AND objsubid = 1 AND granted) AS held
