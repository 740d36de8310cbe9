-- We hold the advisory lock, so any existing row for this schema belongs to a dead holder.
INSERT INTO {lock_table} (schema_name, holder_process_id, acquired_at, expires_at, lock_data)
VALUES (%(schema)s, %(holder)s, now(), now() + make_interval(secs => %(lease_seconds)s), %(lock_data)s)
ON CONFLICT (schema_name) DO UPDATE
   SET holder_process_id = EXCLUDED.holder_process_id,
       acquired_at = EXCLUDED.acquired_at,
       expires_at = EXCLUDED.expires_at,
       lock_data = EXCLUDED.lock_data
RETURNING acquired_at, expires_at
