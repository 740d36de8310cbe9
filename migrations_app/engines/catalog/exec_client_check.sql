-- PostgreSQL 14+: a backend notices a vanished client (kill -9 of the worker) mid-statement
-- and aborts instead of finishing a long ALTER nobody will commit.
SELECT set_config('client_connection_check_interval', %(interval)s, false)
