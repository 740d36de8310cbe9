-- 'committed', 'aborted', 'in progress', or NULL when the xid is too old to know.
SELECT pg_xact_status(%(txid)s::text::xid8) AS status
