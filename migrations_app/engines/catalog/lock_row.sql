SELECT schema_name, holder_process_id, acquired_at, expires_at, lock_data
FROM {lock_table}
WHERE schema_name = %(schema)s
