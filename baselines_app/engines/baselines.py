"""Performance baselines: time a table's typical queries on a target, compare two measurements.

Each query runs ``warmup_runs`` times unrecorded, then at least ``min_baseline_queries`` times
as ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)``: the server's "Execution Time" is the sample
(network and client jitter stay out of the comparison), the round trip is kept alongside as
the client sample. When the "after" side of a comparison is measured
(``remeasure_baselines``), queries whose ratio interval still straddles the threshold get more
samples, ``min_baseline_queries`` at a time, up to ``max_baseline_queries`` (default four times
the minimum): sequential sampling, so a clear result costs ten runs and only a borderline one
costs more. A new baseline (``measure_performance_baselines``) is sampled sequentially too:
a query whose runs are spread (``comparison.baseline_needs_more``: quartiles more than
BASELINE_SPREAD apart, e.g. a burst of load during the measurement) gets ten more runs at a
time, up to the same limit, so that a few slow runs do not hide a real slowdown in every later
comparison with it. Every run is its own transaction and is rolled back, so UPDATE / INSERT /
DELETE leave no trace (sequence values aside). Production is measured read-only: write
queries are refused before anything runs, and the session is READ ONLY as well.

The config is duck-typed (``StagingEnvironmentConfig`` or anything with the same fields):
``baseline_query_timeout_seconds``, ``performance_degradation_threshold``,
``min_baseline_queries``, ``performance_baselines_enabled`` and, optionally,
``max_baseline_queries``.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator

import psycopg
from psycopg import sql

from targets.engines.connections import TargetConnection

from . import statistics
from .comparison import DEFAULT_THRESHOLD, baseline_needs_more
from .comparison import (PerformanceDegradation, QueryComparison, ValidationReport,  # noqa: F401  (public API)
                         detect_performance_degradation, undecided_queries, validate_performance)
from .measured import QueryBaseline
from .plans import most_common_shape, plan_buffers, plan_shape
from .query_sets import ALL_TYPES, WRITE_TYPES, BaselineCatalogError, QuerySpec, build_table_queries, list_tables
from .top_statements import top_statement_specs

__all__ = [
    "BaselineCatalogError", "BaselinesDisabled", "PerformanceBaselineEngine", "PerformanceDegradation",
    "ProductionWriteRefused", "QueryBaseline", "QueryComparison", "ValidationReport",
    "detect_performance_degradation", "measure_performance_baselines", "measure_queries",
    "remeasure_baselines", "validate_performance",
]

DEFAULT_TIMEOUT_SECONDS = 30
DEFAULT_MIN_QUERIES = 5
DEFAULT_SEED = 20250101
KEYS_PER_QUERY = 10
SEQUENTIAL_LIMIT_FACTOR = 4  # max_baseline_queries defaults to this many times min_baseline_queries

Progress = Callable[[int, int, str], None]


class ProductionWriteRefused(Exception):
    """A write query (UPDATE / INSERT / DELETE) was asked of a production target."""


class BaselinesDisabled(Exception):
    """The config has ``performance_baselines_enabled = False``."""


def _setting(config, name: str, default):
    value = getattr(config, name, None) if config is not None else None
    return default if value is None else value


def _timeout_ms(config) -> int:
    return max(1, int(float(_setting(config, "baseline_query_timeout_seconds", DEFAULT_TIMEOUT_SECONDS)) * 1000))


def _normalize_types(query_types: Iterable[str]) -> tuple[str, ...]:
    types = tuple(dict.fromkeys(t.upper() for t in query_types))
    unknown = [t for t in types if t not in ALL_TYPES]
    if unknown:
        raise ValueError(f"unknown query types {unknown}: use {', '.join(ALL_TYPES)}")
    return types


def _refuse_writes_on_production(types: Iterable[str]) -> None:
    writes = [t for t in types if t in WRITE_TYPES]
    if writes:
        raise ProductionWriteRefused(
            f"{', '.join(writes)} queries are never measured on production: production is read in READ ONLY "
            "transactions; measure writes on a staging copy")


@contextmanager
def _session(connection, *, production: bool, timeout_ms: int) -> Iterator[psycopg.Connection]:
    """A session with the statement timeout, READ ONLY on production. An open psycopg connection is
    accepted too; it must be idle (its pending transaction is rolled back)."""
    if isinstance(connection, TargetConnection):
        conn = connection.connect(read_only=production, statement_timeout_ms=timeout_ms,
                                  application_name="dataflow-baselines")
        try:
            yield conn
        finally:
            conn.close()
        return
    conn = connection
    conn.rollback()
    conn.execute("SELECT set_config('statement_timeout', %s, false)", [str(timeout_ms)])
    if production:
        conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    conn.commit()
    yield conn


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else exc.__class__.__name__


def _baseline_from(spec: QuerySpec, **fields) -> QueryBaseline:
    return QueryBaseline(query_id=spec.query_id, query_type=spec.query_type, table_name=spec.table_name,
                               schema=spec.schema, query_label=spec.query_label, sql=spec.sql, params=list(spec.params),
                               source=spec.source, measured_at=datetime.now(timezone.utc).isoformat(), **fields)


def _measure_generic_plan(conn, spec: QuerySpec, **common) -> QueryBaseline:
    """pg_stat_statements text: plan it generically, take the timings from its aggregates."""
    try:
        document = conn.execute(sql.SQL("EXPLAIN (GENERIC_PLAN, FORMAT JSON) ") + sql.SQL(spec.sql)).fetchone()[0][0]
    except psycopg.errors.QueryCanceled:
        return _baseline_from(spec, status="timeout", skip_reason="planning exceeded the statement timeout", **common)
    except psycopg.Error as exc:
        return _baseline_from(spec, status="failed", skip_reason=_first_line(exc), **common)
    finally:
        conn.rollback()
    agg = spec.aggregate
    return _baseline_from(spec, baseline_time_ms=agg.get("mean_ms"), min_time_ms=agg.get("min_ms"),
                          max_time_ms=agg.get("max_ms"), stddev_ms=agg.get("stddev_ms"),
                          plan_shape=plan_shape(document), runs=int(agg.get("calls") or 0), **common)


class _QueryRun:
    """One query's runs. Queries are measured round-robin (run 1 of every query, then run 2, ...)
    so each query's samples span the whole measurement: a burst of load on a shared machine then
    touches every query a little instead of one query a lot, and A/A comparisons stay quiet."""

    def __init__(self, spec: QuerySpec, *, warmup: int, timeout_ms: int, production: bool):
        self.spec, self.warmup, self.timeout_ms = spec, warmup, timeout_ms
        self.common = dict(warmup_runs=warmup, statement_timeout_ms=timeout_ms, production=production)
        self.explain = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ") + sql.SQL(spec.sql)
        # Indexes into spec.params (None: a query without keys); a key that cannot be written is dropped.
        self.usable: list[int | None] = list(range(len(spec.params))) or [None]
        self.samples, self.client, self.planning, self.shapes, self.buffers = [], [], [], [], []
        self.keys: list[int] = []
        self.done = 0
        self.outcome: QueryBaseline | None = None
        if spec.skip_reason:
            self.outcome = _baseline_from(spec, status="skipped", skip_reason=spec.skip_reason, **self.common)
        elif production and spec.query_type in WRITE_TYPES:
            _refuse_writes_on_production([spec.query_type])

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def step(self, conn) -> None:
        """One run (retrying with the next key when a key cannot be written)."""
        if self.spec.source == "pg_stat_statements":
            self.outcome = _measure_generic_plan(conn, self.spec, **self.common)
            return
        last_conflict = ""
        while self.usable:
            key = self.usable[self.done % len(self.usable)]
            params = None if key is None else self.spec.params[key]
            started = time.perf_counter()
            try:
                document = conn.execute(self.explain, params).fetchone()[0][0]
                elapsed = (time.perf_counter() - started) * 1000.0
            except psycopg.errors.IntegrityError as exc:
                # This key cannot be written (a referencing row, a clash): drop it, try the next.
                conn.rollback()
                self.usable.remove(key)
                last_conflict = _first_line(exc)
                continue
            except psycopg.errors.QueryCanceled:
                conn.rollback()
                self.outcome = _baseline_from(self.spec, status="timeout", samples=self.samples, client_samples=self.client,
                                              skip_reason=f"exceeded statement_timeout of {self.timeout_ms} ms", **self.common)
                return
            except psycopg.Error as exc:
                conn.rollback()
                self.outcome = _baseline_from(self.spec, status="failed", skip_reason=_first_line(exc), **self.common)
                return
            conn.rollback()  # every run is its own transaction, never committed
            self.done += 1
            if self.done > self.warmup:
                self.samples.append(float(document["Execution Time"]))
                self.planning.append(float(document.get("Planning Time", 0.0)))
                self.client.append(elapsed)
                self.shapes.append(plan_shape(document))
                self.buffers.append(plan_buffers(document))
                if key is not None:
                    self.keys.append(key)
            return
        self.outcome = _baseline_from(self.spec, status="skipped", skip_reason=f"every sampled key was refused: {last_conflict}",
                                      **self.common)

    def result(self) -> QueryBaseline:
        if self.outcome is not None:
            return self.outcome
        summary = statistics.summarize(self.samples)
        keys = self.buffers[0] if self.buffers else {}
        mean_buffers = {key: statistics.mean([b.get(key, 0) for b in self.buffers]) for key in keys}
        return _baseline_from(self.spec, baseline_time_ms=summary.mean, min_time_ms=summary.minimum,
                              max_time_ms=summary.maximum, stddev_ms=summary.stddev, median_ms=summary.median,
                              p95_ms=summary.p95, samples=self.samples, client_samples=self.client,
                              planning_samples=self.planning, sample_keys=self.keys,
                              plan_shape=most_common_shape(self.shapes),
                              buffers=mean_buffers, runs=len(self.samples), **self.common)


def measure_queries(connection, specs: list[QuerySpec], config=None, *, production: bool = False, warmup_runs: int = 2,
                    progress: Progress | None = None, compare_with: list | None = None,
                    sample_noisy: bool = False) -> list[QueryBaseline]:
    """Time the given queries (generated or replayed). ``connection``: TargetConnection or open psycopg connection.

    ``progress(done_rounds, total_rounds, label)`` is called between rounds. With ``compare_with``
    (the "before" baselines), queries whose comparison is still undecided get more samples; with
    ``sample_noisy`` (a new baseline), queries whose samples are too spread (``baseline_needs_more``)."""
    if production:
        _refuse_writes_on_production({s.query_type for s in specs if not s.skip_reason})
    runs = max(1, int(_setting(config, "min_baseline_queries", DEFAULT_MIN_QUERIES)))
    timeout_ms = _timeout_ms(config)
    states = [_QueryRun(spec, warmup=warmup_runs, timeout_ms=timeout_ms, production=production) for spec in specs]
    rounds = warmup_runs + runs
    with _session(connection, production=production, timeout_ms=timeout_ms) as conn:
        for number in range(rounds):
            if progress:
                progress(number, rounds, "warm-up" if number < warmup_runs else f"timed run {number - warmup_runs + 1} of {runs}")
            for state in states:
                if not state.finished:
                    state.step(conn)
        if compare_with is not None:
            _sample_while_undecided(conn, states, compare_with, config, runs, progress)
        elif sample_noisy:
            _sample_while_noisy(conn, states, config, runs, progress)
        if progress:
            progress(rounds, rounds, "done")
    return [state.result() for state in states]


def _sample_while_undecided(conn, states: list[_QueryRun], before: list, config, runs: int,
                            progress: Progress | None) -> None:
    """More rounds of the queries whose ratio interval straddles the threshold, ``runs`` at a time,
    until every interval is on one side or ``max_baseline_queries`` samples are reached."""
    limit = max(runs, int(_setting(config, "max_baseline_queries", SEQUENTIAL_LIMIT_FACTOR * runs)))
    by_id = {state.spec.query_id: state for state in states}

    def pending() -> list[_QueryRun]:
        undecided = undecided_queries(before, [state.result() for state in states], config)
        return [by_id[qid] for qid in sorted(undecided)
                if qid in by_id and not by_id[qid].finished and len(by_id[qid].samples) < limit]

    _sample_more(conn, pending, runs, limit, progress, "undecided")


def _sample_while_noisy(conn, states: list[_QueryRun], config, runs: int, progress: Progress | None) -> None:
    """A baseline (no comparison yet): more rounds of the queries whose samples are too spread to
    judge a threshold-sized slowdown against (``baseline_needs_more``), ``runs`` at a time, up to
    ``max_baseline_queries``. A baseline that caught a burst of load otherwise hides a real 2x
    slowdown behind its few slow runs for as long as it is compared with."""
    limit = max(runs, int(_setting(config, "max_baseline_queries", SEQUENTIAL_LIMIT_FACTOR * runs)))
    threshold = float(_setting(config, "performance_degradation_threshold", DEFAULT_THRESHOLD))

    def pending() -> list[_QueryRun]:
        return [state for state in states
                if not state.finished and state.spec.source != "pg_stat_statements" and len(state.samples) < limit
                and baseline_needs_more(state.samples, threshold, config)]

    _sample_more(conn, pending, runs, limit, progress, "noisy")


def _sample_more(conn, pending, runs: int, limit: int, progress: Progress | None, why: str) -> None:
    """Rounds of ``runs`` more samples of the queries ``pending()`` names, until it names none."""
    while True:
        chosen = pending()
        if not chosen:
            return
        if progress:
            progress(0, runs, f"{len(chosen)} {why} {'query' if len(chosen) == 1 else 'queries'}: more samples")
        for _ in range(runs):
            for state in chosen:
                if not state.finished and len(state.samples) < limit:
                    state.step(conn)


def _check_enabled(config) -> None:
    if not _setting(config, "performance_baselines_enabled", True):
        raise BaselinesDisabled("performance baselines are disabled in this configuration")


def measure_performance_baselines(connection, tables_filter=None, query_types=ALL_TYPES, schema: str = "public",
                                  config=None, *, production: bool = False, warmup_runs: int = 2,
                                  seed: int = DEFAULT_SEED, include_top_queries: bool = True,
                                  progress: Progress | None = None) -> list[QueryBaseline]:
    """Build the query sets of ``schema``'s tables (or ``tables_filter``) and time them."""
    _check_enabled(config)
    types = _normalize_types(query_types)
    if production:
        _refuse_writes_on_production(types)
    timeout_ms = _timeout_ms(config)
    with _session(connection, production=production, timeout_ms=timeout_ms) as conn:
        try:
            specs = []
            for table in list_tables(conn, schema, tables_filter):
                specs.extend(build_table_queries(conn, schema, table, types, seed=seed, keys_per_query=KEYS_PER_QUERY))
            if include_top_queries:
                specs.extend(top_statement_specs(conn, schema, tables_filter, types, production=production))
        except psycopg.errors.QueryCanceled as exc:
            raise BaselineCatalogError(f"reading the catalog or sampling keys exceeded the statement timeout: {_first_line(exc)}") from exc
        finally:
            conn.rollback()
        return measure_queries(conn, specs, config, production=production, warmup_runs=warmup_runs, progress=progress,
                               sample_noisy=True)


def remeasure_baselines(connection, baselines: list[QueryBaseline], config=None, *, production: bool = False,
                        warmup_runs: int = 2, progress: Progress | None = None,
                        sequential: bool = True) -> list[QueryBaseline]:
    """Replay earlier baselines' exact queries and keys (the "after" side of a comparison);
    ``sequential``: more samples of the queries whose comparison with ``baselines`` is undecided."""
    _check_enabled(config)
    specs = [QuerySpec(b.query_id, b.query_type, b.table_name, b.schema, b.query_label, b.sql, list(b.params), b.source,
                       b.skip_reason if b.status == "skipped" else "")
             for b in baselines]
    return measure_queries(connection, specs, config, production=production, warmup_runs=warmup_runs, progress=progress,
                           compare_with=baselines if sequential else None)


class PerformanceBaselineEngine:
    """The runbook's baseline methods bound to one config (what the staging manager delegates to)."""

    def __init__(self, config=None):
        self.config = config

    def measure_performance_baselines(self, connection, tables_filter=None, query_types=ALL_TYPES, schema="public", **kwargs):
        return measure_performance_baselines(connection, tables_filter, query_types, schema, self.config, **kwargs)

    def remeasure_baselines(self, connection, baselines, **kwargs):
        return remeasure_baselines(connection, baselines, self.config, **kwargs)

    def validate_performance(self, before, after, threshold_multiplier=None, **kwargs) -> ValidationReport:
        return validate_performance(before, after, self.config, threshold_multiplier, **kwargs)

    def detect_performance_degradation(self, before, after, threshold_multiplier=1.5, **kwargs) -> list[PerformanceDegradation]:
        return detect_performance_degradation(before, after, threshold_multiplier, self.config, **kwargs)
