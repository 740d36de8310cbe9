-- The executor's journal on the target, in the tool's own schema (never the user's public).
-- A transactional segment writes its 'committed' row inside its own transaction, so the row
-- exists exactly when the segment committed; an autocommit statement is bracketed by an
-- 'intent' row before and a 'done' row after (each its own tiny transaction).
CREATE SCHEMA IF NOT EXISTS dataflow;
CREATE TABLE IF NOT EXISTS dataflow.migration_journal (
    execution_key      text        NOT NULL,
    phase              text        NOT NULL,
    segment            integer     NOT NULL,
    entry              text        NOT NULL CHECK (entry IN ('committed', 'intent', 'done')),
    operation_indices  integer[]   NOT NULL,
    transactional      boolean     NOT NULL,
    txid               bigint,
    backend_pid        integer     NOT NULL DEFAULT pg_backend_pid(),
    recorded_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (execution_key, phase, segment, entry)
);
COMMENT ON TABLE dataflow.migration_journal IS 'DataFlow Migration Review: segments the executor ran (do not edit)';
