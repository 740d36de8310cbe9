"""Compare two baseline sets: ratio per query, a significance test, the plan change, advice.

A query is DEGRADED only when all three hold: the ratio of medians reaches the threshold, the
"after" samples are significantly slower than the "before" samples (one-sided Mann-Whitney U,
p < alpha: the slowdown is not noise), and the slowdown exceeds a small absolute noise floor
(sub-0.05 ms jitter on a primary-key lookup is not a regression). Medians, not means, so one
descheduled run cannot raise an alarm. Missing, zero or too-small baselines make
INSUFFICIENT_DATA, never an exception.

Each comparison carries a 95% interval of the slowdown ratio (``statistics.ratio_interval``).
When it straddles the threshold, ten samples cannot tell a 1.4x from a 1.6x query: the
measurement takes more "after" samples of exactly those queries (``undecided_queries``, used by
``baselines.remeasure_baselines``) before the decision above is made. An earlier rule demanded
significance that the slowdown *exceeds* the threshold; with ten samples it found a 2x slowdown
at threshold 1.5 in 3 of 20 trials.

Environment drift: when the "after" side ran on a busier or slower server, every query is
slower by about the same factor, while a schema change slows a few. With enough queries, the
median of all ratios estimates that factor; when it is above 1 the decision uses ratios (and
"before" samples) scaled by it, and the validation reports it as ``environment_factor``. It is
never used to make the "after" side look slower than measured.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from . import statistics
from .measured import QueryBaseline
from .plans import describe_plan_change, lost_indexes

ALPHA = 0.01
NOISE_FLOOR_MS = 0.05
MIN_QUERIES_FOR_DRIFT = 8
DEFAULT_THRESHOLD = 2.0
DEFAULT_MIN_QUERIES = 5
STATUSES = ("PASS", "DEGRADATION_DETECTED", "INSUFFICIENT_DATA", "FAILED")


@dataclasses.dataclass
class QueryComparison:
    query_id: str
    query_type: str
    table_name: str
    query_label: str
    status: str  # PASS / DEGRADED / INSUFFICIENT_DATA / FAILED / NOT_COMPARED
    reason: str = ""
    production_time_ms: float | None = None  # median of the "before" samples
    staging_time_ms: float | None = None  # median of the "after" samples
    production_mean_ms: float | None = None
    staging_mean_ms: float | None = None
    performance_ratio: float | None = None  # raw median ratio, after / before
    adjusted_ratio: float | None = None  # divided by the environment factor (>= 1)
    ratio_ci_low: float | None = None  # 95% interval of the ratio (Hodges-Lehmann, statistics.ratio_interval)
    ratio_ci_high: float | None = None
    p_value: float | None = None  # H0: after <= before (x environment factor)
    before_samples: int = 0
    after_samples: int = 0
    plan_change: str | None = None
    recommendation: str = ""
    timed_out: bool = False


@dataclasses.dataclass
class PerformanceDegradation:
    query_type: str
    table_name: str
    query_label: str
    query_id: str
    production_time_ms: float
    staging_time_ms: float
    performance_ratio: float
    plan_change: str | None
    recommendation: str
    p_value: float | None
    ratio_ci_low: float | None = None
    ratio_ci_high: float | None = None
    timed_out: bool = False

    @classmethod
    def from_comparison(cls, c: QueryComparison) -> "PerformanceDegradation":
        return cls(c.query_type, c.table_name, c.query_label, c.query_id, c.production_time_ms, c.staging_time_ms,
                   c.performance_ratio, c.plan_change, c.recommendation, c.p_value, c.ratio_ci_low, c.ratio_ci_high,
                   c.timed_out)


@dataclasses.dataclass
class ValidationReport:
    validation_status: str
    threshold_multiplier: float
    comparisons: list[QueryComparison]
    degradations: list[PerformanceDegradation]
    recommendations: list[str]
    summary: list[dict]  # worst ratio per (query type, table)
    before_label: str = "production"
    after_label: str = "staging"
    alpha: float = ALPHA
    min_baseline_queries: int = DEFAULT_MIN_QUERIES
    environment_factor: float = 1.0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ValidationReport":
        values = dict(data)
        values["comparisons"] = [QueryComparison(**c) for c in data.get("comparisons", [])]
        values["degradations"] = [PerformanceDegradation(**d) for d in data.get("degradations", [])]
        return cls(**values)


def _setting(config, name, default):
    value = getattr(config, name, None) if config is not None else None
    return default if value is None else value


def recommend(query_type: str, table: str, plan_change: str | None, lost: list[str], after_shape: dict,
              timed_out: bool) -> str:
    """Advice that fits the query type and what happened to its plan."""
    if timed_out:
        return (f"{query_type} on {table} exceeded the statement timeout: treat it as a blocking regression; "
                f"run EXPLAIN on the query after the migration and look for a lost index or a full rewrite of {table}.")
    if lost:
        indexes = ", ".join(lost)
        if query_type == "SELECT":
            return (f"Missing index for SELECT on {table}: {indexes} is no longer used ({plan_change}). Check whether the "
                    f"migration dropped or invalidated it; recreate it with CREATE INDEX CONCURRENTLY and ANALYZE {table}.")
        return (f"{query_type} on {table} finds its rows without {indexes} ({plan_change}): restore the index with "
                f"CREATE INDEX CONCURRENTLY; each slower {query_type} holds its row locks longer, so expect lock contention.")
    if query_type == "SELECT":
        if plan_change:
            return (f"SELECT on {table} changed plan ({plan_change}): run ANALYZE {table} to refresh statistics, then "
                    f"check the migration's effect on indexes and column types.")
        return (f"SELECT on {table} is slower with the same plan: check bloat (VACUUM ANALYZE {table}), cache warmth, "
                f"and that the copy holds comparable data (sample size).")
    if query_type == "UPDATE":
        return (f"UPDATE on {table}: check lock contention (pg_locks, wait events in pg_stat_activity), and triggers or "
                f"indexes the migration added (an index on an updated column prevents HOT updates).")
    if query_type == "INSERT":
        return (f"INSERT on {table}: every index, constraint and trigger the migration added costs each insert; "
                f"review them and the foreign keys {table} checks.")
    slow_triggers = sorted((t for t in after_shape.get("triggers", []) if t.get("time_ms")), key=lambda t: -t["time_ms"])
    detail = f" (slowest trigger: {slow_triggers[0]['name']} on {slow_triggers[0]['relation']})" if slow_triggers else ""
    return (f"DELETE on {table}: check foreign keys referencing {table}; a referencing column without an index makes "
            f"every delete scan the child table{detail}.")


def compare_query(before, after, *, threshold: float, min_samples: int, alpha: float = ALPHA,
                  noise_floor_ms: float = NOISE_FLOOR_MS, after_label: str = "staging",
                  environment_factor: float = 1.0) -> QueryComparison:
    reference = before or after
    result = QueryComparison(reference.query_id, reference.query_type, reference.table_name, reference.query_label,
                             status="INSUFFICIENT_DATA")
    if before is None:
        result.status, result.reason = "NOT_COMPARED", "no baseline to compare with"
        return result
    if before.status == "skipped":
        result.status, result.reason = "NOT_COMPARED", f"skipped: {before.skip_reason}"
        return result
    if before.status in ("timeout", "failed"):
        result.reason = f"the baseline itself {'timed out' if before.status == 'timeout' else 'failed'}: {before.skip_reason}"
        return result
    if before.source == "pg_stat_statements":
        result.status, result.reason = "NOT_COMPARED", "pg_stat_statements aggregates, no samples: plan compared only"
        if after is not None:
            result.plan_change = describe_plan_change(before.plan_shape, after.plan_shape)
        return result
    result.before_samples = len(before.samples)
    if result.before_samples < min_samples:
        result.reason = f"baseline has {result.before_samples} samples, below min_baseline_queries ({min_samples})"
        return result
    result.production_time_ms = statistics.median(before.samples)
    result.production_mean_ms = statistics.mean(before.samples)
    if result.production_time_ms <= 0:
        result.reason = "baseline time is zero: no ratio can be formed"
        return result
    if after is None:
        result.reason = f"not measured on {after_label}"
        return result
    if after.status == "timeout":
        timeout = float(after.statement_timeout_ms or 0)
        result.status, result.timed_out = "DEGRADED", True
        result.staging_time_ms = timeout
        result.performance_ratio = timeout / result.production_time_ms
        result.reason = f"timed out on {after_label} after {timeout:.0f} ms (ratio is a lower bound)"
        result.recommendation = recommend(result.query_type, result.table_name, None, [], {}, True)
        return result
    if after.status == "failed":
        result.status, result.reason = "FAILED", f"failed on {after_label}: {after.skip_reason}"
        return result
    if after.status == "skipped":
        result.reason = f"skipped on {after_label}: {after.skip_reason}"
        return result
    result.after_samples = len(after.samples)
    if result.after_samples < min_samples:
        result.reason = f"{after_label} has {result.after_samples} samples, below min_baseline_queries ({min_samples})"
        return result
    result.staging_time_ms = statistics.median(after.samples)
    result.staging_mean_ms = statistics.mean(after.samples)
    result.performance_ratio = result.staging_time_ms / result.production_time_ms
    factor = max(1.0, environment_factor)
    result.adjusted_ratio = result.performance_ratio / factor
    interval = statistics.ratio_interval(before.samples, after.samples)
    result.ratio_ci_low, result.ratio_ci_high = interval.low, interval.high
    scaled_before = [v * factor for v in before.samples]
    result.p_value = statistics.mann_whitney_u(after.samples, scaled_before, "greater").p_value
    result.plan_change = describe_plan_change(before.plan_shape, after.plan_shape)
    slower_by = result.staging_time_ms - result.production_time_ms * factor
    if result.adjusted_ratio >= threshold and result.p_value < alpha and slower_by >= noise_floor_ms:
        result.status = "DEGRADED"
        adjusted = f", {result.adjusted_ratio:.2f}x after the environment factor {factor:.2f}" if factor > 1 else ""
        result.reason = f"{result.performance_ratio:.2f}x slower{adjusted} (p={result.p_value:.4f})"
        result.recommendation = recommend(result.query_type, result.table_name, result.plan_change,
                                          lost_indexes(before.plan_shape, after.plan_shape), after.plan_shape, False)
        return result
    result.status = "PASS"
    if result.performance_ratio >= threshold:
        if result.adjusted_ratio < threshold:
            why = f"{result.adjusted_ratio:.2f}x after the environment factor {factor:.2f}"
        elif result.p_value >= alpha:
            why = f"not significant (p={result.p_value:.3f})"
        else:
            why = f"below the {noise_floor_ms} ms noise floor"
        result.reason = f"{result.performance_ratio:.2f}x but {why}"
    return result


def validate_performance(before: list, after: list, config=None, threshold_multiplier: float | None = None, *,
                         before_label: str = "production", after_label: str = "staging", alpha: float = ALPHA,
                         noise_floor_ms: float | None = None, drift_correction: bool = True) -> ValidationReport:
    """Pair baselines by ``query_id`` and judge each; the overall status is the worst outcome."""
    threshold = float(threshold_multiplier if threshold_multiplier is not None
                      else _setting(config, "performance_degradation_threshold", DEFAULT_THRESHOLD))
    if threshold <= 0:
        raise ValueError("threshold_multiplier must be positive")
    min_samples = int(_setting(config, "min_baseline_queries", DEFAULT_MIN_QUERIES))
    floor = float(noise_floor_ms if noise_floor_ms is not None else _setting(config, "baseline_noise_floor_ms", NOISE_FLOOR_MS))
    before_by_id = {b.query_id: b for b in map(_as_baseline, before or [])}
    after_by_id = {a.query_id: a for a in map(_as_baseline, after or [])}
    ids = list(before_by_id) + [q for q in after_by_id if q not in before_by_id]

    def compare_all(factor: float) -> list[QueryComparison]:
        return [compare_query(before_by_id.get(qid), after_by_id.get(qid), threshold=threshold, min_samples=min_samples,
                              alpha=alpha, noise_floor_ms=floor, after_label=after_label, environment_factor=factor)
                for qid in ids]

    comparisons = compare_all(1.0)
    factor = environment_factor(comparisons) if drift_correction else 1.0
    if factor > 1.0:
        comparisons = compare_all(factor)
    statuses = {c.status for c in comparisons}
    if "DEGRADED" in statuses:
        status = "DEGRADATION_DETECTED"
    elif "FAILED" in statuses:
        status = "FAILED"
    elif "INSUFFICIENT_DATA" in statuses or "PASS" not in statuses:
        status = "INSUFFICIENT_DATA"
    else:
        status = "PASS"
    degradations = [PerformanceDegradation.from_comparison(c) for c in comparisons if c.status == "DEGRADED"]
    recommendations = list(dict.fromkeys(d.recommendation for d in degradations))
    unusable = [c for c in comparisons if c.status in ("INSUFFICIENT_DATA", "FAILED")]
    if unusable:
        recommendations.append(f"{len(unusable)} of {len(comparisons)} queries could not be compared "
                               f"(first: {unusable[0].query_label}: {unusable[0].reason}); fix and measure again.")
    return ValidationReport(status, threshold, comparisons, degradations, recommendations, _summary(comparisons),
                                 before_label, after_label, alpha, min_samples, round(factor, 4))


def undecided_queries(before: list, after: list, config=None, threshold_multiplier: float | None = None) -> set[str]:
    """The query ids whose ratio interval (after the environment factor) straddles the threshold,
    among those a threshold-sized slowdown would lift above the noise floor: more "after"
    samples can still move their decision, and nothing else's."""
    validation = validate_performance(before, after, config, threshold_multiplier)
    factor = max(1.0, validation.environment_factor)
    threshold = validation.threshold_multiplier
    floor = float(_setting(config, "baseline_noise_floor_ms", NOISE_FLOOR_MS))
    return {c.query_id for c in validation.comparisons
            if c.status in ("PASS", "DEGRADED") and not c.timed_out and c.ratio_ci_low is not None
            and c.ratio_ci_low / factor < threshold <= c.ratio_ci_high / factor
            and c.production_time_ms * factor * (threshold - 1.0) >= floor}


def environment_factor(comparisons: list[QueryComparison]) -> float:
    """Median ratio over all timed comparisons (>= 1.0), or 1.0 with too few queries to tell."""
    ratios = [c.performance_ratio for c in comparisons if c.performance_ratio is not None and not c.timed_out]
    if len(ratios) < MIN_QUERIES_FOR_DRIFT:
        return 1.0
    return max(1.0, statistics.median(ratios))


def _as_baseline(item):
    """Stored baselines come back as dicts (JSON); accept them as they are."""
    if isinstance(item, dict):
        return QueryBaseline.from_dict(item)
    return item


def _summary(comparisons: list[QueryComparison]) -> list[dict]:
    groups = defaultdict(list)
    for c in comparisons:
        groups[(c.query_type, c.table_name)].append(c)
    rows = []
    for (query_type, table), items in sorted(groups.items()):
        ratios = [c.performance_ratio for c in items if c.performance_ratio is not None]
        rows.append({"query_type": query_type, "table_name": table, "queries": len(items),
                     "worst_ratio": max(ratios) if ratios else None,
                     "degraded": sum(c.status == "DEGRADED" for c in items)})
    return rows


def detect_performance_degradation(before: list, after: list, threshold_multiplier: float = 1.5, config=None,
                                   **kwargs) -> list[PerformanceDegradation]:
    """The runbook's list of degradations (empty when nothing is significantly slower)."""
    return validate_performance(before, after, config, threshold_multiplier, **kwargs).degradations
