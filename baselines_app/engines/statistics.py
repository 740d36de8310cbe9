"""Small, dependency-free statistics for timing samples.

Baselines hold 5-50 timings per query, so everything here is exact and O(n log n) at worst.
The comparison needs two things a ratio alone cannot give: robustness to one slow outlier
(medians, not means, drive the decision) and a test that the "after" samples really are slower
than the "before" samples rather than noise (Mann-Whitney U, normal approximation with tie and
continuity corrections), and an interval of the slowdown ratio that agrees with that test
(Hodges-Lehmann on the logarithms: distribution-free, exact order statistics, no resampling).
When both sides ran the same query with the same keys, the test and the interval are
stratified by key (``stratified_ratio_test``): each key's samples are compared with the same
key's, so a key that is slow on both sides adds no noise.
"""

from __future__ import annotations

import dataclasses
import math
import random
from statistics import NormalDist
from typing import Sequence


def mean(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("mean of no values")
    return math.fsum(values) / len(values)


def stddev(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1); 0.0 for a single value."""
    n = len(values)
    if n == 0:
        raise ValueError("stddev of no values")
    if n == 1:
        return 0.0
    m = mean(values)
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / (n - 1))


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, "type 7")."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be within [0, 100]")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal variable."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def rank_with_ties(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Ranks (1-based, ties get their average rank) and the sizes of the tie groups."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    tie_sizes: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        average = (i + j) / 2.0 + 1.0
        for k in range(i, j + 1):
            ranks[order[k]] = average
        if j > i:
            tie_sizes.append(j - i + 1)
        i = j + 1
    return ranks, tie_sizes


@dataclasses.dataclass(frozen=True)
class MannWhitneyResult:
    u: float  # U statistic of the first sample (count of pairs where it is larger, ties 1/2)
    z: float
    p_value: float
    alternative: str


def mann_whitney_u(x: Sequence[float], y: Sequence[float], alternative: str = "greater") -> MannWhitneyResult:
    """Mann-Whitney U test of ``x`` against ``y``.

    ``alternative="greater"``: x tends to be larger than y (after slower than before);
    ``"less"`` and ``"two-sided"`` as usual. Normal approximation with the tie correction of the
    variance and a 0.5 continuity correction, like scipy's ``method="asymptotic"``.
    """
    if alternative not in ("greater", "less", "two-sided"):
        raise ValueError(f"unknown alternative {alternative!r}")
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("Mann-Whitney U needs two non-empty samples")
    ranks, tie_sizes = rank_with_ties(list(x) + list(y))
    rank_sum_x = math.fsum(ranks[:n1])
    u = rank_sum_x - n1 * (n1 + 1) / 2.0
    mu = n1 * n2 / 2.0
    n = n1 + n2
    tie_term = sum(t ** 3 - t for t in tie_sizes)
    variance = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1))) if n > 1 else 0.0
    if variance <= 0:
        # Every value tied: there is no evidence of any difference.
        return MannWhitneyResult(u=u, z=0.0, p_value=1.0, alternative=alternative)
    sigma = math.sqrt(variance)
    if alternative == "greater":
        z = (u - mu - 0.5) / sigma
        p = normal_sf(z)
    elif alternative == "less":
        z = (u - mu + 0.5) / sigma
        p = normal_sf(-z)
    else:
        z = (abs(u - mu) - 0.5) / sigma
        p = min(1.0, 2.0 * normal_sf(z))
    return MannWhitneyResult(u=u, z=z, p_value=p, alternative=alternative)


@dataclasses.dataclass(frozen=True)
class RatioInterval:
    low: float
    estimate: float  # Hodges-Lehmann: median of all pairwise ratios after_i / before_j
    high: float


def ratio_interval(before: Sequence[float], after: Sequence[float], *, confidence: float = 0.95) -> RatioInterval:
    """Confidence interval of the factor by which ``after`` is slower than ``before``.

    The Mann-Whitney interval of a shift, taken on the logarithms so that the shift is a ratio:
    the order statistics of all n1 x n2 pairwise log-ratios, at ranks from the normal
    approximation of U. A ratio ``r`` lies below the interval exactly when the one-sided test
    "after > r x before" is significant at (1 - confidence) / 2, so "the interval straddles the
    threshold" means "the samples cannot yet tell which side of the threshold the slowdown is".
    """
    if not before or not after:
        raise ValueError("a ratio interval needs two non-empty samples")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be within (0, 1)")
    # A zero timing (sub-microsecond rounding) would make every ratio infinite.
    log_before = [math.log(max(v, 1e-6)) for v in before]
    log_after = [math.log(max(v, 1e-6)) for v in after]
    differences = sorted(a - b for a in log_after for b in log_before)
    n1, n2, total = len(log_after), len(log_before), len(differences)
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    rank = max(1, math.floor(total / 2.0 - z * math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12.0)))
    middle = total // 2
    estimate = differences[middle] if total % 2 else (differences[middle - 1] + differences[middle]) / 2.0
    return RatioInterval(math.exp(differences[rank - 1]), math.exp(estimate), math.exp(differences[total - rank]))


@dataclasses.dataclass(frozen=True)
class StratifiedResult:
    interval: RatioInterval  # of the slowdown, within strata
    p_value: float  # one-sided: after slower than ``factor`` x before
    strata: int  # strata with samples on both sides


def stratified_ratio_test(strata: Sequence[tuple[Sequence[float], Sequence[float]]], *, factor: float = 1.0,
                          confidence: float = 0.95) -> StratifiedResult:
    """Mann-Whitney U summed over strata (van Elteren's unweighted form), its Hodges-Lehmann
    estimate and interval of the ratio, for ``(before, after)`` sample pairs of one stratum each.

    A stratum is one key of a lookup: samples are only compared with samples of the same key,
    so a key that is slow on both sides (a customer with many orders) is no noise, and an
    outlier among one key's samples moves only that key's few pairs. U counts the pairs
    (after_i, before_j) of a stratum with after_i > before_j (ties 1/2); its mean and variance
    (with each stratum's tie correction) are the sums of the strata's. With a single stratum
    this is ``mann_whitney_u`` and ``ratio_interval`` exactly.
    """
    usable = [(list(b), list(a)) for b, a in strata if b and a]
    if not usable:
        raise ValueError("a stratified test needs a stratum with samples on both sides")
    shift = math.log(max(factor, 1e-12))
    differences, u, mean_u, variance = [], 0.0, 0.0, 0.0
    for before, after in usable:
        log_before = [math.log(max(v, 1e-6)) for v in before]
        log_after = [math.log(max(v, 1e-6)) for v in after]
        n1, n2 = len(log_after), len(log_before)
        for x in log_after:
            for y in log_before:
                d = x - y
                differences.append(d)
                u += 1.0 if d > shift else 0.5 if d == shift else 0.0
        _, ties = rank_with_ties(log_after + [y + shift for y in log_before])
        n = n1 + n2
        tie_term = sum(t ** 3 - t for t in ties)
        mean_u += n1 * n2 / 2.0
        if n > 1:
            variance += n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1)))
    differences.sort()
    total = len(differences)
    middle = total // 2
    estimate = differences[middle] if total % 2 else (differences[middle - 1] + differences[middle]) / 2.0
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    rank = min(max(1, math.floor(total / 2.0 - z * math.sqrt(variance))), (total + 1) // 2)
    interval = RatioInterval(math.exp(differences[rank - 1]), math.exp(estimate), math.exp(differences[total - rank]))
    p = 1.0 if variance <= 0 else normal_sf((u - mean_u - 0.5) / math.sqrt(variance))
    return StratifiedResult(interval, p, len(usable))


def bootstrap_ratio_ci(before: Sequence[float], after: Sequence[float], *, confidence: float = 0.95,
                       resamples: int = 400, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of median(after) / median(before); seeded, so repeatable."""
    if not before or not after:
        raise ValueError("bootstrap needs two non-empty samples")
    rng = random.Random(seed)
    ratios = []
    for _ in range(resamples):
        b = median([rng.choice(before) for _ in before])
        a = median([rng.choice(after) for _ in after])
        if b > 0:
            ratios.append(a / b)
    if not ratios:
        return (math.inf, math.inf)
    tail = (1.0 - confidence) / 2.0 * 100.0
    return (percentile(ratios, tail), percentile(ratios, 100.0 - tail))


@dataclasses.dataclass(frozen=True)
class Summary:
    count: int
    mean: float
    median: float
    minimum: float
    maximum: float
    stddev: float
    p95: float


def summarize(values: Sequence[float]) -> Summary:
    return Summary(count=len(values), mean=mean(values), median=median(values), minimum=min(values),
                   maximum=max(values), stddev=stddev(values), p95=percentile(values, 95))
