-- Removes the row only while nobody holds the advisory lock: a holder that acquires between
-- our check and this statement keeps its row.
DELETE FROM {lock_table} AS t
WHERE t.schema_name = %(schema)s
  AND NOT EXISTS (
      SELECT 1 FROM pg_locks AS l
      WHERE l.locktype = 'advisory'
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = %(classid)s::bigint::oid
        AND l.objid = %(objid)s::bigint::oid
        AND l.objsubid = 1
        AND l.granted)
RETURNING t.schema_name, t.holder_process_id
