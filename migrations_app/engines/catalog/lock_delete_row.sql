DELETE FROM {lock_table} WHERE schema_name = %(schema)s AND holder_process_id = %(holder)s
