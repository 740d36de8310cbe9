-- Created once per target; {lock_schema} is composed with psycopg.sql.Identifier.
CREATE TABLE IF NOT EXISTS {lock_schema}.dataflow_migration_locks (
    schema_name        text PRIMARY KEY,
    holder_process_id  text NOT NULL,
    acquired_at        timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    lock_data          jsonb NOT NULL DEFAULT '{{}}'::jsonb
)
