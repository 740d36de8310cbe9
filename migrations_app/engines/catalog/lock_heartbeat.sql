UPDATE {lock_table}
   SET expires_at = now() + make_interval(secs => %(lease_seconds)s)
 WHERE schema_name = %(schema)s AND holder_process_id = %(holder)s
RETURNING expires_at
