-- Everything the journal holds for one execution, in the order it was written.
SELECT phase, segment, entry, operation_indices, transactional, txid, backend_pid, recorded_at
FROM dataflow.migration_journal
WHERE execution_key = %(key)s
ORDER BY recorded_at, segment
