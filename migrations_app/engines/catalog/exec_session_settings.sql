-- One round trip for the executing session's guards, and the schema unqualified names resolve to.
SELECT set_config('lock_timeout', %(lock_timeout)s, false),
       set_config('statement_timeout', %(statement_timeout)s, false),
       set_config('idle_in_transaction_session_timeout', %(idle_timeout)s, false),
       set_config('search_path', coalesce(%(search_path)s, current_setting('search_path')), false)
