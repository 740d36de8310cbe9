-- One journal row; txid_current() inside a transactional segment is that segment's own xid.
-- A retried autocommit attempt re-writes its 'intent' row: the first one stands.
INSERT INTO dataflow.migration_journal (execution_key, phase, segment, entry, operation_indices,
                                        transactional, txid)
VALUES (%(key)s, %(phase)s, %(segment)s, %(entry)s, %(indices)s, %(transactional)s,
        CASE WHEN %(transactional)s THEN txid_current() END)
ON CONFLICT (execution_key, phase, segment, entry) DO NOTHING
