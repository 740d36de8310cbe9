"""The copy pipeline: schema (pre-data), sampled rows, sequences, schema (post-data).

Everything read from production comes from ONE snapshot: a ``REPEATABLE READ, READ ONLY``
transaction that exports its snapshot for pg_dump and then samples and streams the rows
itself. Rows travel with ``COPY (...) TO STDOUT`` on the source and ``COPY ... FROM STDIN``
on staging, relayed block by block (``copy_stream.relay``): a table is never held in memory.
Each sampling or closure statement streams the rows it picks as it picks them (see
``sampling``), so no row is read twice. A second session that imports the snapshot streams
the sample-only tables (or half of a whole copy) at the same time, from a worker thread.

Tables are loaded without indexes or constraints (pre-data only); post-data adds them after
the rows are in, so every foreign key is validated against the copy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Callable

import psycopg
from psycopg import sql

from staging_app.engines import schema_copy
from staging_app.engines.catalog import query
from staging_app.engines.copy_stream import SideCopier, relay
from staging_app.engines.masking import ColumnMasker, MaskingRule, rules_to_dict
from staging_app.engines.sampling import (SampleSet, full_copy_query, load_foreign_keys, load_leaves, load_tables,
                                          resolve_tables_filter)

LOCK_TIMEOUT = "10s"
WORK_MEM = "64MB"
PROGRESS_EVERY_SECONDS = 1.0


class SchemaChangedError(RuntimeError):
    """Production's tables changed while the copy was being prepared; run it again."""


@dataclasses.dataclass
class ReplicationResult:
    staging_id: str
    tables_replicated: int = 0
    constraints_replicated: int = 0
    foreign_keys_replicated: int = 0
    indexes_replicated: int = 0
    views_replicated: int = 0
    materialized_views_replicated: int = 0
    sequences_replicated: int = 0
    triggers_replicated: int = 0
    functions_replicated: int = 0
    policies_replicated: int = 0
    rows_sampled: dict[str, int] = dataclasses.field(default_factory=dict)
    source_rows_estimate: dict[str, int] = dataclasses.field(default_factory=dict)
    parent_rows_added: dict[str, int] = dataclasses.field(default_factory=dict)
    masked_columns: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    masking_rules: dict = dataclasses.field(default_factory=dict)
    total_rows_sampled: int = 0
    bytes_copied: int = 0
    data_sample_size: float = 0.0
    sample_seed: int = 0
    sampling_method: str = "AUTO"
    tables_filter: list[str] | None = None
    include_data: bool = True
    closure_passes: int = 0
    duration_seconds: float = 0.0
    # Rows stream into staging as they are picked: TABLESAMPLE statements, then the closure's.
    sampling_seconds: float = 0.0
    closure_seconds: float = 0.0
    data_seconds: float = 0.0  # all rows picked and landed: what a whole-table dump|restore is compared with
    warnings: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def throughput_mb_per_second(self) -> float:
        """COPY bytes per second of the whole data phase (sampling included)."""
        return self.bytes_copied / 1e6 / self.data_seconds if self.data_seconds else 0.0


@dataclasses.dataclass
class ReplicationRequest:
    staging_id: str
    include_data: bool
    data_sample_size: float
    sample_seed: int
    tables_filter: list[str] | None
    masking_rules: list[MaskingRule]
    sampling_method: str = "AUTO"
    statement_timeout_ms: int = 900_000


def replicate(source, staging, request: ReplicationRequest,
              progress: Callable[[dict], None] | None = None) -> ReplicationResult:
    """Copy ``source`` (TargetConnection to production) into ``staging`` (TargetConnection to
    the empty staging database). Raises on any failure; the caller drops the copy."""
    started = time.monotonic()
    result = ReplicationResult(staging_id=request.staging_id, data_sample_size=request.data_sample_size,
                               sample_seed=request.sample_seed, sampling_method=request.sampling_method,
                               tables_filter=request.tables_filter, include_data=request.include_data,
                               masking_rules=rules_to_dict(request.masking_rules))
    report = progress or (lambda state: None)
    app = f"dataflow-staging {request.staging_id}"
    with source.connect(application_name=app, statement_timeout_ms=request.statement_timeout_ms) as src, \
            staging.connect(application_name=app) as dst, \
            tempfile.TemporaryDirectory(prefix="dataflow-staging-") as tmp:
        # Before the snapshot: temp tables for the sample (not allowed in a READ ONLY transaction).
        tables = load_tables(src)
        edges = load_foreign_keys(src)
        masker = ColumnMasker(request.masking_rules, tables, edges, salt=request.staging_id)
        sampler = SampleSet(src, tables, edges, fraction=request.data_sample_size, seed=request.sample_seed,
                            method=request.sampling_method, leaves={}, select_list=masker.select_list)
        full_copy = request.data_sample_size >= 1 and request.tables_filter is None
        if request.include_data and not full_copy:
            sampler.prepare()
        src.commit()

        src.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = src.execute("SELECT pg_export_snapshot()").fetchone()[0]
        src.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
        src.execute("SET LOCAL jit = off")  # compiling each COPY's SELECT costs more than it saves
        # Room for the closure's key and address hashes in one batch (one session, for the copy).
        src.execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(WORK_MEM)))
        for table in tables:
            # Keeps row addresses stable and DDL out while we read (pg_dump takes the same lock).
            src.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(table.identifier))
        if load_tables(src) != tables or load_foreign_keys(src) != edges:
            raise SchemaChangedError("tables or foreign keys changed on production while the copy started; retry")
        sampler.leaves = load_leaves(src, tables)  # partitions as of the snapshot, with their sizes
        chosen = resolve_tables_filter(tables, request.tables_filter)
        source_counts = schema_copy.object_counts(src)

        report({"phase": "schema", "tables_done": 0, "tables_total": len(tables), "rows_copied": 0})
        dump = Path(tmp) / "schema.dump"
        schema_copy.dump_schema(source, snapshot, dump)
        schema_copy.restore_section(staging, dump, "pre-data")

        if request.include_data:
            report({"phase": "copying", "tables_done": 0, "tables_total": len(tables), "rows_copied": 0})
            data_started = time.monotonic()
            stream = _Stream(src, dst, tables, masker, result, report)
            side_tables = _side_tables(tables, sampler, chosen, full_copy)
            with _side_copier(source, staging, snapshot, app, request, stream, sampler, side_tables, full_copy) as side:
                stream.side = side
                if full_copy:
                    for table in tables:
                        if table.oid not in side_tables:
                            stream(table, full_copy_query(table, masker.select_list(table)))
                else:
                    sampler.sample(chosen, stream, streamed_elsewhere=side_tables)
                    result.sampling_seconds = time.monotonic() - data_started
                    result.closure_passes = sampler.close_under_foreign_keys(stream)
                    result.closure_seconds = time.monotonic() - data_started - result.sampling_seconds
                    result.parent_rows_added = {sampler.tables[oid].qualified_name: n
                                                for oid, n in sorted(sampler.parent_rows_added.items())}
                dst.commit()
            stream.merge_side(side, sampler.sampled_rows)  # after the worker has been joined
            result.data_seconds = time.monotonic() - data_started
            _copy_sequences(src, dst)
            result.source_rows_estimate = _row_estimates(src, tables)

        report({"phase": "post-data", "tables_done": len(tables), "tables_total": len(tables),
                "rows_copied": result.total_rows_sampled})
        schema_copy.restore_section(staging, dump, "post-data")
        src.rollback()  # the snapshot is no longer needed
        if request.include_data:
            result.warnings += _refresh_materialized_views(dst)
        dst.autocommit = True
        # Plans on staging should resemble production's (rehearsals, baselines). Only the copied
        # tables and materialized views: a bare ANALYZE also walks every system catalog, which
        # was half of the time on demo_shop (0.23 s).
        relations = [t.identifier for t in tables] + [sql.Identifier(*row) for row in dst.execute(query("stg_matviews"))]
        if relations:
            dst.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(relations)))
        staging_counts = schema_copy.object_counts(dst)

    for kind, count in staging_counts.items():
        setattr(result, f"{kind}_replicated", count)
        if count != source_counts[kind]:
            result.warnings.append(f"{kind.replace('_', ' ')}: {source_counts[kind]} on production, {count} on staging")
    result.masked_columns = {t.qualified_name: masker.masked_columns(t) for t in tables if masker.masked_columns(t)}
    result.duration_seconds = time.monotonic() - started
    report({"phase": "done", "tables_done": len(tables), "tables_total": len(tables),
            "rows_copied": result.total_rows_sampled, "bytes_copied": result.bytes_copied})
    return result


def _side_tables(tables, sampler: SampleSet, chosen: set[int], full_copy: bool) -> set[int]:
    """The tables the second session streams, largest first while they fit in half of the
    pages (and at least one): any table in a whole copy; in a sample, only the sample-only
    tables (nothing references them, so their rows need no address set)."""
    pages = {t.oid: sum(leaf.pages for leaf in sampler.leaves[t.oid]) for t in tables}
    candidates = set(pages) if full_copy else sampler.sample_only(chosen)
    budget = sum(pages[oid] for oid in (pages if full_copy else chosen)) / 2
    side, load = set(), 0
    for oid in sorted(candidates, key=lambda oid: -pages[oid]):
        if load + pages[oid] <= budget or not side:
            side.add(oid)
            load += pages[oid]
    return side if len(tables) > 1 else set()


@contextlib.contextmanager
def _side_copier(source, staging, snapshot, app, request, stream, sampler, side_tables, full_copy):
    """A second source session on the same snapshot and a second staging session, streaming
    ``side_tables`` from a worker thread; stopped (its statement cancelled) if the main
    session fails, joined (re-raising its error) if it succeeds."""
    if not side_tables:
        yield None
        return
    with source.connect(application_name=app, statement_timeout_ms=request.statement_timeout_ms) as src2, \
            staging.connect(application_name=app) as dst2:
        src2.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        src2.read_only = True
        src2.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        src2.execute("SET LOCAL jit = off")
        dst2.execute("SET synchronous_commit = off")
        jobs = []
        for table in (sampler.tables[oid] for oid in sorted(side_tables)):
            selects = ([full_copy_query(table, stream.masker.select_list(table))] if full_copy
                       else sampler.sample_selects(table))
            jobs += [(table.oid, *stream.statements(table, select)) for select in selects]
        side = SideCopier(src2, dst2, jobs)
        side.start()
        try:
            yield side
        except BaseException:
            side.stop()
            raise
        side.join()


class _Stream:
    """The sink of every COPY: streams it into the table on staging and keeps the counts."""

    def __init__(self, src, dst, tables, masker: ColumnMasker, result: ReplicationResult, report):
        self.src, self.dst, self.masker, self.result, self.report = src, dst, masker, result, report
        self.tables = {t.oid: t for t in tables}
        self.rows = {t.oid: 0 for t in tables}
        self.side: SideCopier | None = None
        self.current = tables[0] if tables else None
        self.last_report = time.monotonic()
        for table in tables:
            result.rows_sampled[table.qualified_name] = 0
        # Staging is a disposable copy: a crash loses it anyway, so commits need not wait for the disk.
        dst.execute("SET synchronous_commit = off")

    def statements(self, table, select) -> tuple[sql.Composable, sql.Composable]:
        # Binary saves formatting and parsing (measured 1.5x on timestamps and numerics), but
        # is only safe when the SELECT yields the staging columns' exact types: plain column
        # references of built-in types, no masking expressions.
        options = sql.SQL(" (FORMAT binary)" if table.binary_copy and not self.masker.masked_columns(table) else "")
        return (sql.SQL("COPY ({}) TO STDOUT{}").format(select, options),
                sql.SQL("COPY {} ({}) FROM STDIN{}").format(
                    table.identifier, sql.SQL(", ").join(sql.Identifier(c) for c in table.columns), options))

    def __call__(self, table, select) -> int:
        self.current = table
        rows = relay(self.src, self.dst, *self.statements(table, select), self._on_block)
        self._count(table, rows)
        self._report(force=True)
        return rows

    def _count(self, table, rows: int) -> None:
        self.rows[table.oid] += rows
        self.result.rows_sampled[table.qualified_name] += rows
        self.result.total_rows_sampled += rows

    def merge_side(self, side: SideCopier | None, recorded: dict[int, int]) -> None:
        """Add the second session's counts; a sample-only table whose keys were recorded here
        must have streamed exactly the recorded rows there, or the closure missed parents."""
        if side is None:
            return
        for oid, rows in side.rows.items():
            if oid in recorded and recorded[oid] != rows:
                raise RuntimeError(f"{self.tables[oid].qualified_name}: the sample recorded {recorded[oid]} rows but "
                                   f"{rows} were streamed; the snapshot did not hold")
            self._count(self.tables[oid], rows)
        self.result.bytes_copied += side.bytes_copied

    def _on_block(self, nbytes: int) -> None:
        self.result.bytes_copied += nbytes
        self._report()

    def _report(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.last_report < PROGRESS_EVERY_SECONDS:
            return
        self.last_report = time.monotonic()
        side_rows = sum(self.side.rows.values()) if self.side else 0
        side_bytes = self.side.bytes_copied if self.side else 0
        done = sum(1 for oid, n in self.rows.items() if n or (self.side and self.side.rows.get(oid)))
        # A table counts as done once rows have landed in it; the closure may still add parents.
        self.report({"phase": "copying", "tables_done": done, "tables_total": len(self.tables),
                     "current_table": self.current.qualified_name, "rows_copied": self.result.total_rows_sampled + side_rows,
                     "bytes_copied": self.result.bytes_copied + side_bytes})


def _copy_sequences(src, dst) -> None:
    for schema, name in src.execute(query("stg_sequences")).fetchall():
        last_value, is_called = src.execute(
            sql.SQL("SELECT last_value, is_called FROM {}").format(sql.Identifier(schema, name))).fetchone()
        dst.execute("SELECT pg_catalog.setval(format('%%I.%%I', %(schema)s::text, %(name)s::text)::regclass, "
                    "%(value)s, %(called)s)", {"schema": schema, "name": name, "value": last_value, "called": is_called})
    dst.commit()


def _row_estimates(src, tables) -> dict[str, int]:
    """Production row estimates (reltuples, summed over partitions) for the tolerance check
    on pages; counting production exactly would cost a full scan per table."""
    estimates = {}
    for table in tables:
        row = src.execute(query("stg_row_estimate"), {"oid": table.oid}).fetchone()
        estimates[table.qualified_name] = int(row[0])
    return estimates


def _refresh_materialized_views(dst) -> list[str]:
    """Refresh after the load; a view over another view may need a second pass."""
    pending = [tuple(row) for row in dst.execute(query("stg_matviews")).fetchall()]
    dst.commit()
    for _ in range(len(pending) + 1):
        failed = []
        for schema, name in pending:
            try:
                dst.execute(sql.SQL("REFRESH MATERIALIZED VIEW {}").format(sql.Identifier(schema, name)))
                dst.commit()
            except psycopg.Error as exc:
                dst.rollback()
                failed.append((schema, name, str(exc).splitlines()[0]))
        if not failed or len(failed) == len(pending):
            return [f"materialized view {s}.{n} not refreshed: {msg}" for s, n, msg in failed]
        pending = [(s, n) for s, n, _ in failed]
    return []
