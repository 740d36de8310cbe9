"""Compare two baseline sets: ratio per query, a significance test, the plan change, advice.

A query is DEGRADED only when all three hold: the estimated slowdown reaches the threshold, the
"after" samples are significantly slower than the "before" samples (one-sided Mann-Whitney U,
p < alpha: the slowdown is not noise), and the slowdown exceeds a small absolute noise floor
(sub-0.05 ms jitter on a primary-key lookup is not a regression). The estimate is the
Hodges-Lehmann ratio (median of the pairwise ratios after_i / before_j), which uses every
sample where a ratio of medians uses one of each side; one descheduled run moves neither.
Missing, zero or too-small baselines make INSUFFICIENT_DATA, never an exception.

Lookups run with a handful of keys, in turn, and record which sample used which key
(``QueryBaseline.sample_keys``). When both sides ran the same keys, samples are only compared
with samples of the same key (``statistics.stratified_ratio_test``): deleting a customer with
many orders costs ten times one with none, and unpaired samples would count that as noise.

Each comparison carries a 95% interval of the slowdown ratio. When it straddles the threshold,
or the estimate is above it but not yet significant, more samples can still move the decision:
the measurement takes more "after" samples of exactly those queries (``undecided_queries``,
used by ``baselines.remeasure_baselines``) before the decision above is made. The baseline
itself is sampled further when its runs are spread (``baseline_needs_more``): a baseline
measured ten times during a burst of load has slow runs every "after" sample is compared
with, and with one sample per key a single slow run turns a whole key's pairs against a slowdown. An earlier rule
demanded significance that the slowdown *exceeds* the threshold; with ten samples it found a 2x
slowdown at threshold 1.5 in 3 of 20 trials.

Environment drift: when one side ran on a busier or slower server, queries are slower by a
common factor, while a schema change slows a few. The factor is not the same for every query
(a neighbour's memory traffic doubles a 20 ms sequential scan and leaves a 0.02 ms lookup
alone), so each query is judged against the median ratio of its peers: the other queries of
about its duration that did the same work on both sides (the same blocks per run,
``environment_factors``). With the same work on both sides the factor may be below 1 (the
baseline ran in a slow spell); without it (another data size, baselines without buffer counts)
it is the median of all ratios and only ever above 1, as before. The validation reports the
median same-work ratio as ``environment_factor``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import defaultdict

from . import statistics
from .measured import QueryBaseline
from .plans import describe_plan_change, lost_indexes

ALPHA = 0.01
NOISE_FLOOR_MS = 0.05
MIN_QUERIES_FOR_DRIFT = 8
DRIFT_PEERS = 7
PEER_SPAN = 10.0  # peers: same-work queries within this factor of the duration (at least MIN_PEERS, else the DRIFT_PEERS nearest)
MIN_PEERS = 3
SAME_WORK_TOLERANCE = 1.25
BASELINE_SPREAD = 1.2  # a baseline whose quartiles differ by more gets more runs (baseline_needs_more)
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
    ratio_estimate: float | None = None  # Hodges-Lehmann slowdown (within keys when possible): what is judged
    key_strata: int = 0  # keys whose samples were compared with the same key's (0: all samples together)
    same_work: bool = False  # both sides touched the same number of blocks per run (_same_work)
    environment_factor: float = 1.0  # the drift this query was judged against (environment_factors)


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
    result.same_work = _same_work(before, after)
    factor = result.environment_factor = environment_factor
    tested = statistics.stratified_ratio_test(_strata(before, after), factor=factor)
    interval = tested.interval
    result.p_value = tested.p_value
    result.key_strata = tested.strata if tested.strata > 1 else 0
    result.ratio_ci_low, result.ratio_ci_high = interval.low, interval.high
    result.ratio_estimate = interval.estimate
    result.adjusted_ratio = interval.estimate / factor
    result.plan_change = describe_plan_change(before.plan_shape, after.plan_shape)
    slower_by = result.staging_time_ms - result.production_time_ms * factor
    if result.adjusted_ratio >= threshold and result.p_value < alpha and slower_by >= noise_floor_ms:
        result.status = "DEGRADED"
        adjusted = f", {result.adjusted_ratio:.2f}x after the environment factor {factor:.2f}" if factor != 1 else ""
        result.reason = f"{result.ratio_estimate:.2f}x slower{adjusted} (p={result.p_value:.4f}{_paired_note(result)})"
        result.recommendation = recommend(result.query_type, result.table_name, result.plan_change,
                                          lost_indexes(before.plan_shape, after.plan_shape), after.plan_shape, False)
        return result
    result.status = "PASS"
    if max(result.performance_ratio, result.ratio_estimate) >= threshold:
        if result.p_value >= alpha:
            why = f"not significant (p={result.p_value:.3f}{_paired_note(result)})"
        elif result.adjusted_ratio < threshold:
            why = (f"{result.adjusted_ratio:.2f}x after the environment factor {factor:.2f}" if factor != 1
                   else f"the estimated slowdown is {result.ratio_estimate:.2f}x")
        else:
            why = f"below the {noise_floor_ms} ms noise floor"
        result.reason = f"{result.performance_ratio:.2f}x median ratio but {why}"
    return result


def _paired_note(result: QueryComparison) -> str:
    return f", within {result.key_strata} keys" if result.key_strata else ""


def _strata(before, after) -> list[tuple[list[float], list[float]]]:
    """The samples grouped by the key they ran with, when both sides ran the same keys and
    recorded which sample used which (``QueryBaseline.sample_keys``); otherwise one group. A
    lookup's cost depends on its key (deleting a customer with many orders is slower than one
    with none): comparing each key with itself takes that spread out of the comparison, where
    unpaired samples would count it as noise."""
    keys_before, keys_after = list(before.sample_keys or []), list(after.sample_keys or [])
    whole = [(list(before.samples), list(after.samples))]
    if len(keys_before) != len(before.samples) or len(keys_after) != len(after.samples) or not keys_before:
        return whole
    if json.dumps(before.params, default=str) != json.dumps(after.params, default=str):
        return whole
    by_key: dict = defaultdict(lambda: ([], []))
    for key, value in zip(keys_before, before.samples):
        by_key[key][0].append(value)
    for key, value in zip(keys_after, after.samples):
        by_key[key][1].append(value)
    strata = [(b, a) for b, a in by_key.values() if b and a]
    return strata or whole


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

    def compare_all(factors: dict[str, float]) -> list[QueryComparison]:
        return [compare_query(before_by_id.get(qid), after_by_id.get(qid), threshold=threshold, min_samples=min_samples,
                              alpha=alpha, noise_floor_ms=floor, after_label=after_label,
                              environment_factor=factors.get(qid, 1.0))
                for qid in ids]

    comparisons = compare_all({})
    factor = environment_factor(comparisons) if drift_correction else 1.0
    factors = environment_factors(comparisons) if drift_correction else {}
    if any(f != 1.0 for f in factors.values()):
        comparisons = compare_all(factors)
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
    threshold = validation.threshold_multiplier
    floor = float(_setting(config, "baseline_noise_floor_ms", NOISE_FLOOR_MS))
    return {c.query_id for c in validation.comparisons
            if c.status in ("PASS", "DEGRADED") and not c.timed_out and c.ratio_ci_low is not None
            and (c.ratio_ci_low / c.environment_factor < threshold <= c.ratio_ci_high / c.environment_factor
                 or (c.adjusted_ratio >= threshold and c.p_value >= validation.alpha))
            and c.production_time_ms * c.environment_factor * (threshold - 1.0) >= floor}


def environment_factor(comparisons: list[QueryComparison]) -> float:
    """How much slower the "after" side's environment is, or 1.0 with too few queries to tell.

    When enough queries did the same work on both sides (``same_work``: the same data, the
    same plan), the median of their ratios, in either direction: a whole measurement run
    during a burst of load makes every query slower on that side, and a slowdown is judged
    against the other queries of the same run. Otherwise the median of all ratios, and only
    when it is above 1 (a smaller copy makes many queries faster for a reason that says
    nothing about the environment)."""
    timed = [c for c in comparisons if c.ratio_estimate is not None and not c.timed_out]
    same = [c.ratio_estimate for c in timed if c.same_work]
    if len(same) >= MIN_QUERIES_FOR_DRIFT:
        return statistics.median(same)
    if len(timed) < MIN_QUERIES_FOR_DRIFT:
        return 1.0
    return max(1.0, statistics.median([c.ratio_estimate for c in timed]))


def environment_factors(comparisons: list[QueryComparison], peers: int | None = None) -> dict[str, float]:
    """The drift each query is judged against: the median ratio of its peers among the queries
    that did the same work on both sides (itself left out): those within PEER_SPAN of its
    duration, or, with fewer than MIN_PEERS of them, its ``peers`` nearest in duration.

    The machine's state does not slow every query alike: a burst of memory traffic from a
    neighbour makes a 20 ms sequential scan twice as slow and leaves a 0.02 ms index lookup as
    it was. A query is therefore compared with the queries of its own weight in the same two
    runs, and is degraded when it is slower than they are. Leaving the query out keeps its own
    slowdown out of its yardstick. With fewer same-work queries than MIN_QUERIES_FOR_DRIFT
    (another data size, old baselines without buffers), every query gets ``environment_factor``."""
    peers = peers or DRIFT_PEERS
    timed = [c for c in comparisons if c.ratio_estimate is not None and not c.timed_out]
    same = [c for c in timed if c.same_work and c.production_time_ms]
    if len(same) < MIN_QUERIES_FOR_DRIFT:
        overall = environment_factor(comparisons)
        return {c.query_id: overall for c in timed}
    factors = {}
    for c in timed:
        here = math.log(c.production_time_ms)
        ordered = sorted((x for x in same if x.query_id != c.query_id),
                         key=lambda x: abs(math.log(x.production_time_ms) - here))
        within = [x for x in ordered if abs(math.log(x.production_time_ms) - here) <= math.log(PEER_SPAN)]
        nearest = within if len(within) >= MIN_PEERS else ordered[:peers]
        factors[c.query_id] = statistics.median([x.ratio_estimate for x in nearest])
    return factors


def _blocks(baseline) -> float | None:
    buffers = baseline.buffers or {}
    if "Shared Hit Blocks" not in buffers:
        return None
    return float(buffers.get("Shared Hit Blocks", 0)) + float(buffers.get("Shared Read Blocks", 0))


def _same_work(before, after) -> bool:
    """Both sides read about as many blocks per run (within SAME_WORK_TOLERANCE, or a couple
    of blocks for a lookup): the same rows through the same plan, so a uniform difference in
    time is the environment's."""
    x, y = _blocks(before), _blocks(after)
    if x is None or y is None:
        return False
    return abs(x - y) <= 2 or (x > 0 and y > 0 and 1 / SAME_WORK_TOLERANCE <= y / x <= SAME_WORK_TOLERANCE)


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


def baseline_needs_more(samples: list, threshold: float, config=None) -> bool:
    """Whether a baseline's samples are too spread to judge a threshold-sized slowdown against:
    the spread of their middle half (upper over lower quartile) is above BASELINE_SPREAD, and a
    threshold-sized slowdown of the query would exceed the noise floor. A baseline measured in a
    burst of load holds a few slow runs; its median and every pairwise ratio lean on them, and
    a real 2x slowdown then looks like 1.4x. More runs (``measure_queries`` takes them ten at a
    time, up to ``max_baseline_queries``) let the quiet runs outvote the burst."""
    if len(samples) < 4:
        return False
    floor = float(_setting(config, "baseline_noise_floor_ms", NOISE_FLOOR_MS))
    low, middle, high = (statistics.percentile(samples, q) for q in (25, 50, 75))
    if middle * (threshold - 1.0) < floor or low <= 0:
        return False
    return high / low > BASELINE_SPREAD
