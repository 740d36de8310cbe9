SELECT schema_name FROM {lock_table} ORDER BY schema_name
