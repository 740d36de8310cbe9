-- One round trip for the executing session's guards, and the schema unqualified names resolve to.
-- client_check (PostgreSQL 14+, NULL before): a backend notices a vanished client (kill -9 of the
-- worker) mid-statement and aborts instead of finishing a long ALTER nobody will commit.
SELECT set_config('lock_timeout', %(lock_timeout)s, false),
       set_config('statement_timeout', %(statement_timeout)s, false),
       set_config('idle_in_transaction_session_timeout', %(idle_timeout)s, false),
       set_config('search_path', coalesce(%(search_path)s, current_setting('search_path')), false),
       CASE WHEN %(client_check)s::text IS NOT NULL
            THEN set_config('client_connection_check_interval', %(client_check)s, false) END
