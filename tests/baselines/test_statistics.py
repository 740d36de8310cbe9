"""statistics.py against values worked out by hand (and matching scipy's asymptotic method)."""

import math

import pytest

from baselines_app.engines import statistics as st


def test_median_and_percentile_interpolate_between_ranks_like_numpy():
    assert st.median([4, 1, 3, 2]) == 2.5
    assert st.percentile(list(range(1, 11)), 95) == pytest.approx(9.55)
    assert st.percentile([7.0], 95) == 7.0


def test_stddev_is_the_sample_standard_deviation():
    assert st.stddev([2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(math.sqrt(32 / 7))
    assert st.stddev([3.0]) == 0.0


def test_summary_of_no_values_is_an_error_not_a_zero():
    with pytest.raises(ValueError):
        st.summarize([])


def test_mann_whitney_u_matches_the_textbook_example():
    # U = 17; mu = 10, sigma = sqrt(5*4*10/12); z = (17 - 10 - 0.5) / sigma = 1.5922; p = 0.1113
    result = st.mann_whitney_u([19, 22, 16, 29, 24], [20, 11, 17, 12], alternative="two-sided")
    assert result.u == 17
    assert result.z == pytest.approx(1.5922, abs=1e-4)
    assert result.p_value == pytest.approx(0.1113, abs=1e-4)
    assert st.mann_whitney_u([19, 22, 16, 29, 24], [20, 11, 17, 12], "greater").p_value == pytest.approx(0.05567, abs=1e-4)


def test_mann_whitney_u_corrects_the_variance_for_ties():
    # ranks: 1 | 2,2,2 -> 3 | 3,3,3 -> 6 | 4 -> 8; U_x = 13 - 10 = 3; two tie groups of 3 -> 48
    # var = 4*4/12 * (9 - 48/56) = 10.857143; z = (3 - 8 + 0.5) / sqrt(var) = -1.365694
    result = st.mann_whitney_u([1, 2, 2, 3], [2, 3, 3, 4], alternative="less")
    assert result.u == 3
    assert result.z == pytest.approx(-1.365694, abs=1e-5)
    assert result.p_value == pytest.approx(st.normal_sf(1.365694), abs=1e-6)


def test_mann_whitney_u_with_every_value_tied_finds_no_difference():
    assert st.mann_whitney_u([1.0] * 5, [1.0] * 5).p_value == 1.0


def test_complete_separation_of_ten_samples_is_highly_significant():
    before = [1.0 + i / 100 for i in range(10)]
    after = [v * 1.7 for v in before]
    assert st.mann_whitney_u(after, before, "greater").p_value < 0.001
    assert st.mann_whitney_u(before, after, "greater").p_value > 0.99


def test_bootstrap_interval_of_the_ratio_covers_the_true_ratio_and_is_repeatable():
    before = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02, 0.98, 1.01, 0.99, 1.03]
    after = [2 * v for v in before]
    low, high = st.bootstrap_ratio_ci(before, after, seed=3)
    assert low <= 2.0 <= high
    assert (low, high) == st.bootstrap_ratio_ci(before, after, seed=3)


def test_ratio_interval_covers_the_true_ratio_and_agrees_with_the_mann_whitney_test():
    before = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02, 0.98, 1.01, 0.99, 1.03]
    after = [2 * v for v in reversed(before)]
    interval = st.ratio_interval(before, after)
    assert interval.low < 2.0 < interval.high
    assert interval.estimate == pytest.approx(2.0)
    # Just below the interval, "after is slower than r x before" is significant at 2.5%; just inside, it is not.
    below, inside = interval.low * 0.999, interval.low * 1.001
    assert st.mann_whitney_u(after, [v * below for v in before], "greater").p_value < 0.025
    assert st.mann_whitney_u(after, [v * inside for v in before], "greater").p_value > 0.025


def test_ratio_interval_narrows_as_samples_are_added():
    before = [1.0 + ((i * 7) % 10) / 20 for i in range(10)]
    after10 = [1.6 * (1.0 + ((i * 3) % 10) / 20) for i in range(10)]
    after40 = [1.6 * (1.0 + ((i * 3) % 10) / 20) for i in range(40)]
    narrow, wide = st.ratio_interval(before, after40), st.ratio_interval(before, after10)
    assert narrow.high - narrow.low < wide.high - wide.low
    with pytest.raises(ValueError):
        st.ratio_interval([], after10)


def test_one_stratum_is_the_mann_whitney_test_and_its_ratio_interval():
    before = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02, 0.98, 1.01, 0.99, 1.03]
    after = [1.9 * v for v in reversed(before)] + [2.3, 2.1]
    tested = st.stratified_ratio_test([(before, after)], factor=1.8)
    assert tested.strata == 1
    assert tested.interval == st.ratio_interval(before, after)
    assert tested.p_value == pytest.approx(st.mann_whitney_u(after, [1.8 * v for v in before], "greater").p_value)


def test_strata_take_the_spread_between_keys_out_of_the_comparison():
    # Three keys whose lookups cost 1, 10 and 100 ms, each 1.6x slower after: pooled, the
    # samples overlap so much that nothing is significant; key by key, every pair is slower.
    levels = [1.0, 10.0, 100.0]
    before = [[level * (1 + j / 50) for j in range(4)] for level in levels]
    after = [[1.6 * level * (1 + j / 40) for j in range(4)] for level in levels]
    pooled = st.stratified_ratio_test([(sum(before, []), sum(after, []))])
    by_key = st.stratified_ratio_test(list(zip(before, after)))
    assert pooled.p_value > 0.05
    assert by_key.p_value < 0.001 and by_key.strata == 3
    assert 1.5 < by_key.interval.low < by_key.interval.estimate < by_key.interval.high < 1.8
    with pytest.raises(ValueError):
        st.stratified_ratio_test([([], [1.0])])
