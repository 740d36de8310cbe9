-- Before PostgreSQL 15 a transaction keeps its first read of the statistics; the second write
-- sample needs them read again.
SELECT pg_stat_clear_snapshot()
