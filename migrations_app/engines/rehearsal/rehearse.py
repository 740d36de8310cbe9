"""Rehearse a plan on a staging copy. Framework-free.

    result = rehearse_plan(staging_connection, operations, "shop", sample_fraction=0.1,
                           table_fractions={"shop.orders": 0.1}, measure_baselines=True, config=config)

Steps, each recorded: baselines of the touched tables (optional), the schema digest, the plan
applied through ``AtomicMigrationExecutor`` exactly as production would run it (same
transaction segments) while a second session samples ``pg_locks`` for the executing backend
and the executing session reads ``pg_class.relfilenode`` of every table before and after each
statement (its own uncommitted rewrite is visible only to itself), baselines again and
compared, the rollback plan run and verified against the pre-rehearsal digest, then the plan
applied again so the copy ends in the post-migration state.

The forward run does not stop looking at the first failure: the later statements are still
tried, each under a savepoint of a transaction that is rolled back (a statement PostgreSQL
refuses in a transaction block is then not tried), so one rehearsal names every failing
statement. The rehearsal fails all the same, and those statements count for nothing else.

The rehearsal PASSES when the forward run succeeds, the rollback brings the digest back to the
pre-rehearsal one, and the re-apply succeeds. The rollback is recorded apart for the schema
(digest) and the data (each backed-up set of rows restored with its captured count and
checksum; see ``rollback.verification``): ``rollback_verified`` only when both hold, which the
CRITICAL gate needs. Baselines do not decide PASSED / FAILED; their validation status is
recorded for the gate (CRITICAL plans need PASS).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from baselines_app.engines.baselines import (ALL_TYPES, QueryBaseline, measure_performance_baselines,
                                             remeasure_baselines, validate_performance)
from migrations_app.engines.catalog import query
from migrations_app.engines.execution import AtomicMigrationExecutor, now_iso, schema_digest
from migrations_app.engines.execution.digest import column_order_note, reordered_relations
from migrations_app.engines.statements import MigrationOperation, statement_info
from migrations_app.engines.rehearsal.lock_projection import LockProjection, project_lock_times
from migrations_app.engines.rehearsal.lock_sampler import LockSampler, strongest
from migrations_app.engines.rollback import DATA_OK, DEFAULT_BACKUP_MAX_BYTES
from targets.engines.connections import TargetConnection

PASSED, FAILED = "PASSED", "FAILED"
# A statement's outcome in the forward run. After the first failure the later statements are only
# tried (under savepoints, rolled back): what they show is which would fail too, never passed work.
RAN, FAILED_STATEMENT, NOT_REACHED = "ran", "failed", "not reached"
TRIED_RAN, TRIED_FAILED, NOT_TRIED = "ran under a savepoint", "failed under a savepoint", "not tried"
REAL_RUN = (RAN, FAILED_STATEMENT)
STEPS = ("baselines_before", "digest_before", "forward", "baselines_after", "rollback", "reapply")
Progress = Callable[[dict], None]


@dataclasses.dataclass
class StatementRehearsal:
    index: int
    sql: str
    kind: str
    table: str | None                    # schema.table the statement is about
    transactional: bool
    txid: int | None = None
    duration_ms: float | None = None
    rows: int | None = None
    lock_mode: str | None = None         # strongest mode on a pre-existing relation (pg_locks name)
    lock_relation: str | None = None
    lock_acquired: bool = False          # False: already held from an earlier statement of the transaction
    locks: list[dict] = dataclasses.field(default_factory=list)
    lock_samples: int = 0
    rewritten: bool = False
    rewritten_tables: list[str] = dataclasses.field(default_factory=list)
    static_rewrite: bool = False
    static_scan: bool = False
    error: str | None = None
    outcome: str = NOT_REACHED
    note: str | None = None              # why a statement was not tried
    projection: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class RehearsalResult:
    status: str = FAILED
    schema: str = "public"
    schemas: list[str] = dataclasses.field(default_factory=list)
    sample_fraction: float = 1.0
    table_fractions: dict = dataclasses.field(default_factory=dict)
    statements: list[StatementRehearsal] = dataclasses.field(default_factory=list)
    forward: dict | None = None
    rollback: dict | None = None
    reapply: dict | None = None
    digest_before: str | None = None
    digest_after_forward: str | None = None
    digest_after_rollback: str | None = None
    digest_after_reapply: str | None = None
    rollback_verified: bool = False            # schema and data both verified
    rollback_schema_verified: bool = False
    rollback_data_status: str = ""             # rollback.verification statuses
    rollback_data_summary: str = ""
    digest_differences: dict = dataclasses.field(default_factory=dict)
    baselines_before: list[dict] | None = None
    baselines_after: list[dict] | None = None
    validation: dict | None = None
    baseline_error: str | None = None
    projection: LockProjection | None = None
    error: str | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    started_at: str = dataclasses.field(default_factory=now_iso)
    finished_at: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def validation_status(self) -> str | None:
        return (self.validation or {}).get("validation_status")

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["projection"] = self.projection.to_dict() if self.projection else None
        data["validation_status"] = self.validation_status
        return data


class _ObservedExecutor(AtomicMigrationExecutor):
    """The executor, keeping a handle on its executing connection so the rehearsal can read
    ``pg_class`` inside the migration's own transaction (between statements, same thread)."""

    observed = None

    def _connected(self, conn, result):
        # every path to the executing session (opened inline or on the prep thread) ends here
        conn = super()._connected(conn, result)
        self.observed = conn
        return conn


def rehearse_plan(staging: TargetConnection, operations: list[MigrationOperation], schema: str = "public", *,
                  sample_fraction: float = 1.0, table_fractions: dict[str, float] | None = None,
                  measure_baselines: bool = False, config=None, baseline_query_types=None,
                  progress: Progress | None = None, lock_timeout_ms: int = 5000,
                  sampler_interval_seconds: float = 0.02,
                  backup_max_bytes: int | None = DEFAULT_BACKUP_MAX_BYTES) -> RehearsalResult:
    """Rehearse ``operations`` on the staging copy ``staging``. Never raises for a failed step:
    the result says what failed. ``table_fractions``: staging rows / production rows per
    ``schema.table`` (the sample plus the parent rows that came along)."""
    emit = progress or (lambda state: None)
    schemas = sorted({op.schema or schema for op in operations} | {schema})
    result = RehearsalResult(schema=schema, schemas=schemas, sample_fraction=sample_fraction,
                             table_fractions=dict(table_fractions or {}))
    try:
        facts = static_facts(operations, schema)
    except Exception as exc:  # unparsable SQL: nothing ran
        return _finish(result, f"cannot read the plan's SQL: {exc}")
    result.statements = [StatementRehearsal(index=i, sql=op.sql, kind=f.kind, table=_qualified(f, op, schema),
                                            transactional=f.transactional, static_rewrite=f.rewrites_table,
                                            static_scan=f.scans_table)
                         for i, (op, f) in enumerate(zip(operations, facts))]
    # the same backup limit as production: the rollback rehearsed is the one production would get
    executor = _ObservedExecutor(staging, lock_timeout_ms=lock_timeout_ms, verify_digest=True,
                                 application_name="dataflow-rehearsal", backup_max_bytes=backup_max_bytes,
                                 try_every_statement=True)
    try:
        existing = _relfilenodes(staging, schemas)
        touched = _touched_tables(result.statements, existing)
        if measure_baselines:
            emit({"phase": "baselines_before", "step": 1, "steps": len(STEPS)})
            _baselines_before(result, staging, touched, config, baseline_query_types)
        emit({"phase": "digest_before", "step": 2, "steps": len(STEPS)})
        before = schema_digest(staging, schemas)
        result.digest_before = before.digest
        emit({"phase": "forward", "step": 3, "steps": len(STEPS), "statement": 0, "statements": len(operations)})
        forward = _forward(result, executor, staging, operations, existing, emit, sampler_interval_seconds)
        if not forward.success:
            return _finish(result, _forward_failure(result, forward.error_message))
        result.digest_after_forward = forward.digest_after
        if measure_baselines and result.baselines_before is not None:
            emit({"phase": "baselines_after", "step": 4, "steps": len(STEPS)})
            _baselines_after(result, staging, config)
        emit({"phase": "rollback", "step": 5, "steps": len(STEPS)})
        rollback = executor.execute_rollback_plan(forward.rollback_plan)
        result.rollback = rollback.to_dict()
        after_rollback = schema_digest(staging, schemas)
        result.digest_after_rollback = after_rollback.digest
        result.rollback_schema_verified = bool(rollback.success and after_rollback.digest == before.digest)
        reordered = [] if result.rollback_schema_verified or not rollback.success else \
            reordered_relations(before.objects, after_rollback.objects)
        if reordered:  # the same schema but for the column order a DROP COLUMN's rollback cannot restore
            result.rollback_schema_verified = True
            result.warnings.append(column_order_note(reordered))
        data = rollback.data_verification or {}
        result.rollback_data_status, result.rollback_data_summary = data.get("status", ""), data.get("summary", "")
        result.rollback_verified = result.rollback_schema_verified and result.rollback_data_status in DATA_OK
        if not result.rollback_schema_verified:
            result.digest_differences = before.differences(after_rollback)
            why = rollback.error_message or "the schema after the rollback differs from the one before the rehearsal"
            if not forward.rollback_plan.fully_reversible:
                why += f" ({len(forward.rollback_plan.irreversible_operations)} operation(s) have no rollback)"
            result.warnings.append("not re-applied: the copy is neither before nor after the plan; clean it up")
            return _finish(result, f"rollback not verified: {why}")
        if not result.rollback_verified:
            # the digest covers the schema only: say plainly what the rollback did not restore
            result.warnings.append(f"the schema came back, but the rollback is not verified for data: "
                                   f"{result.rollback_data_summary}")
        emit({"phase": "reapply", "step": 6, "steps": len(STEPS)})
        reapply = executor.execute_atomic_migration(operations)
        reapply.rollback_plan = None  # the forward run's plan is the one that matters
        result.reapply = reapply.to_dict()
        result.digest_after_reapply = reapply.digest_after
        if not reapply.success:
            return _finish(result, f"re-applying the plan after the rollback failed: {reapply.error_message}")
        if reapply.digest_after != forward.digest_after:
            result.warnings.append("the schema after the re-apply differs from the one after the first run")
    except Exception as exc:  # connection refused, catalog error: the message is safe to show
        return _finish(result, f"{type(exc).__name__}: {exc}")
    result.status = PASSED
    return _finish(result, None)


def _finish(result: RehearsalResult, error: str | None) -> RehearsalResult:
    result.error = error
    if error:
        result.status = FAILED
    # statements only tried after a failure ran inside another transaction: no production lock to project
    real = [s for s in result.statements if s.outcome in REAL_RUN]
    if real and result.projection is None and any(s.duration_ms is not None for s in real):
        result.projection = project_lock_times(real, result.sample_fraction, result.table_fractions)
    result.finished_at = now_iso()
    return result


def static_facts(operations, schema):
    """The statement model's facts of each operation (the policy's refusals raise, as in the executor)."""
    facts = []
    for index, op in enumerate(operations):
        info = statement_info(op.sql, default_schema=op.schema or schema)
        info.index = index
        facts.append(info)
    return facts


def _qualified(fact, op: MigrationOperation, schema: str) -> str | None:
    table = fact.table or op.table_name
    return f"{fact.schema or op.schema or schema}.{table}" if table else None


def _relfilenodes(target_or_conn, schemas) -> dict[int, dict]:
    """oid -> {relation, relfilenode}: on a TargetConnection (committed state) or an open
    connection (that session's view, including its uncommitted changes)."""
    if isinstance(target_or_conn, TargetConnection):
        with target_or_conn.read_only() as conn:
            return _relfilenodes(conn, schemas)
    rows = target_or_conn.execute(query("rehearsal_relfilenodes"), {"schemas": list(schemas)}).fetchall()
    return {oid: {"relation": f"{nsp}.{name}", "relfilenode": node} for oid, nsp, name, _kind, node in rows}


def _touched_tables(statements, existing) -> dict[str, list[str]]:
    """schema -> tables that exist before the plan and that it touches (what baselines measure)."""
    names = {info["relation"] for info in existing.values()}
    out: dict[str, list[str]] = {}
    for stmt in statements:
        if stmt.table in names:
            schema, table = stmt.table.split(".", 1)
            if table not in out.setdefault(schema, []):
                out[schema].append(table)
    return out


def _forward(result, executor, staging, operations, existing, emit, interval):
    by_index = {s.index: s for s in result.statements}
    state: dict = {}

    def observe(event: dict) -> None:
        kind = event.get("event")
        if kind == "connected":
            sampler.watch(event["backend_pid"])
        if event.get("phase") not in (None, "migration", "probe"):
            return
        if kind == "statement_started":
            state["nodes"] = _relfilenodes(executor.observed, result.schemas) if executor.observed else {}
            sampler.begin()
            emit({"phase": "forward", "step": 3, "steps": len(STEPS), "statement": event["index"] + 1,
                  "statements": len(operations)})
        elif kind in ("statement_finished", "statement_failed"):
            stmt = by_index[event["index"]]
            _record_locks(stmt, sampler.end(), existing)
            if kind == "statement_finished" and executor.observed is not None:
                after = _relfilenodes(executor.observed, result.schemas)
                before = state.get("nodes", {})
                stmt.rewritten_tables = sorted(after[oid]["relation"] for oid in before
                                               if oid in after and after[oid]["relfilenode"] != before[oid]["relfilenode"])
                stmt.rewritten = bool(stmt.rewritten_tables)

    with LockSampler(staging, interval_seconds=interval) as sampler:
        forward = executor.execute_atomic_migration(operations, progress=observe)
    if sampler.error:
        result.warnings.append(f"lock sampler stopped: {sampler.error}")
    result.warnings += [w for w in forward.warnings if w.startswith("progress callback failed")]
    for entry in forward.statement_log:
        if entry.phase in ("migration", "probe") and entry.operation_index in by_index:
            stmt = by_index[entry.operation_index]  # the last attempt wins
            stmt.outcome, stmt.note = _outcome(entry), entry.not_run
            if entry.not_run is None:
                stmt.duration_ms, stmt.rows, stmt.txid, stmt.error = (entry.duration_ms, entry.rows, entry.txid,
                                                                       entry.error)
    result.forward = forward.to_dict()
    return forward


def _forward_failure(result: RehearsalResult, error: str | None) -> str:
    first = next((s for s in result.statements if s.outcome == FAILED_STATEMENT), None)
    text = f"the plan failed on staging{f' at statement {first.index + 1}' if first else ''}: {error}"
    later = [str(s.index + 1) for s in result.statements if s.outcome == TRIED_FAILED]
    if later:
        text += (f"; tried after it under savepoints, statement{'s' if len(later) > 1 else ''} "
                 f"{', '.join(later)} failed too")
    return text


def _outcome(entry) -> str:
    if entry.not_run is not None:
        return NOT_TRIED
    if entry.phase == "probe":
        return TRIED_FAILED if entry.error else TRIED_RAN
    return FAILED_STATEMENT if entry.error else RAN


def _record_locks(stmt: StatementRehearsal, locks, existing) -> None:
    stmt.locks = [r.to_dict() for r in locks.relations]
    stmt.lock_samples = locks.samples
    # Relations the transaction created are locked ACCESS EXCLUSIVE by their creator: that blocks
    # nobody, so the headline is the mode this statement acquired on a relation that existed
    # before the plan, preferring its own table; a mode inherited from an earlier statement of
    # the transaction is shown (not acquired) only when the statement acquired nothing new.
    own = [r for r in locks.relations if r.relation == stmt.table]
    prior = [r for r in locks.relations if r.oid in existing]
    for candidates in (own, prior):
        acquired = [r for r in candidates if r.acquired]
        if acquired:
            mode = strongest(r.acquired_mode for r in acquired)
            pick = next(r for r in acquired if r.acquired_mode == mode)
            stmt.lock_mode, stmt.lock_relation, stmt.lock_acquired = mode, pick.relation, True
            return
    for candidates in (own, prior):
        if candidates:
            mode = strongest(r.mode for r in candidates)
            pick = next(r for r in candidates if r.mode == mode)
            stmt.lock_mode, stmt.lock_relation, stmt.lock_acquired = mode, pick.relation, False
            return


def _baselines_before(result, staging, touched, config, query_types) -> None:
    if not touched:
        result.baseline_error = "the plan touches no existing table: nothing to measure"
        return
    try:
        measured = []
        for schema, tables in sorted(touched.items()):
            measured += measure_performance_baselines(staging, tables, query_types or ALL_TYPES, schema, config,
                                                      include_top_queries=False)
        result.baselines_before = [b.to_dict() for b in measured]
    except Exception as exc:  # disabled, timeout, catalog error: recorded, the gate sees no PASS
        result.baseline_error = f"baselines before the plan: {type(exc).__name__}: {exc}"


def _baselines_after(result, staging, config) -> None:
    try:
        before = [QueryBaseline.from_dict(b) for b in result.baselines_before]
        after = remeasure_baselines(staging, before, config)
        result.baselines_after = [b.to_dict() for b in after]
        validation = validate_performance(before, after, config, before_label="staging before the plan",
                                          after_label="staging after the plan")
        result.validation = validation.to_dict()
    except Exception as exc:
        result.baseline_error = f"baselines after the plan: {type(exc).__name__}: {exc}"
