"""A staging rehearsal's projected lock time becomes a measured risk factor with its evidence."""

from migrations_app.engines.plan_analysis import analyze_plan


def _rehearsal(mode: str, projected_ms: float) -> dict:
    return {"rehearsal_id": 7, "sample_fraction": 0.1, "projection": {
        "mode": mode, "relation": "public.orders", "measured_ms": projected_ms / 10, "projected_ms": projected_ms,
        "evidence": f"rehearsed on a 10% copy: {mode} on public.orders held {projected_ms / 10000:g} s, "
                    f"projected {projected_ms / 1000:g} s on production"}}


def test_a_long_projected_access_exclusive_lock_raises_system_availability_with_the_rehearsal_as_evidence():
    sql = "ALTER TABLE orders ADD COLUMN note text"
    without = analyze_plan(sql).risk
    with_rehearsal = analyze_plan(sql, rehearsal=_rehearsal("ACCESS EXCLUSIVE", 40_000)).risk
    factor = next(f for f in with_rehearsal.risk_factors if f.name == "rehearsed_lock_time")
    assert factor.points == 30 and factor.category == "system_availability"
    assert "rehearsed on a 10% copy: ACCESS EXCLUSIVE" in factor.evidence and "projected 40 s" in factor.evidence
    assert with_rehearsal.category_scores["system_availability"] >= 30
    assert with_rehearsal.overall_score > without.overall_score


def test_a_short_projected_lock_is_recorded_but_never_lowers_the_estimate():
    sql = "ALTER TABLE orders ALTER COLUMN code TYPE bigint USING code::bigint"
    without = analyze_plan(sql).risk
    with_rehearsal = analyze_plan(sql, rehearsal=_rehearsal("ACCESS EXCLUSIVE", 300)).risk
    factor = next(f for f in with_rehearsal.risk_factors if f.name == "rehearsed_lock_time")
    assert factor.points == 0 and "projected 0.3 s" in factor.evidence
    assert with_rehearsal.overall_score == without.overall_score
    assert with_rehearsal.category_scores == without.category_scores


def test_without_a_rehearsal_the_assessment_is_unchanged():
    sql = "CREATE INDEX orders_code_idx ON orders (code)"
    assert analyze_plan(sql).risk.to_dict() == analyze_plan(sql, rehearsal=None).risk.to_dict()
    assert all(f.name != "rehearsed_lock_time" for f in analyze_plan(sql).risk.risk_factors)
