"""Findings raise the risk: each finding either sets a floor under the plan's level or says why it
adds nothing. The mapping (documented next to the bands in the README):

- a statement refused by the policy: CRITICAL (and the analysis fails: it cannot be approved)
- a policy finding: the floor the policy gives it (dynamic SQL, unparsed bodies, foreign data: HIGH;
  data-modifying WITH: HIGH; CALL, CREATE EXTENSION, VACUUM FULL / CLUSTER: MEDIUM)
- ``renamed-table-referenced-by-functions`` (functions that break at their next call): HIGH
- ``rollback-touches-other-objects`` (a rollback that changes what the plan did not): HIGH
- any other ERROR finding: MEDIUM
- WARNING and INFO findings: no floor; the statement's own risk factors (lock, rewrite, size, data
  loss, dependents) carry the measured risk, and the finding says so.
"""

from __future__ import annotations

from migrations_app.engines.risk.model import PlanRiskAssessment, RiskBand, risk_level_for_score

RULE_FLOORS = {"renamed-table-referenced-by-functions": "HIGH", "rollback-touches-other-objects": "HIGH"}
SEVERITY_FLOORS = {"error": "MEDIUM"}
NO_FLOOR = ("no floor: advice for the reviewer; the statement's own risk factors (lock, rewrite, size, data loss, "
            "dependents) carry its measured risk")


def floor_of(finding) -> str | None:
    evidence = getattr(finding, "evidence", {}) or {}
    # a rule's own floor holds while it is an error; a review policy that lowers the rule lowers its floor
    rule_floor = RULE_FLOORS.get(finding.rule) if finding.severity == "error" else None
    return evidence.get("risk_floor") or rule_floor or SEVERITY_FLOORS.get(finding.severity)


def risk_effect(finding) -> str:
    floor = floor_of(finding)
    policy = (getattr(finding, "evidence", {}) or {}).get("policy")
    blocks = "; blocks the sign-off gate (review policy)" if (getattr(finding, "evidence", {}) or {}).get("blocks_gate") else ""
    if floor:
        return f"raises the plan to at least {floor}{blocks}"
    if policy:
        return f"no floor: the review policy makes this rule {policy['state']} (default {policy['default']})"
    return NO_FLOOR


def apply_floors(risk: PlanRiskAssessment, findings) -> None:
    """Raise ``risk`` to the highest floor any finding sets; every floor is listed with its reason."""
    floors = []
    for finding in findings:
        level = floor_of(finding)
        if level:
            floors.append({"level": level, "rule": finding.rule, "statement": finding.statement_index + 1,
                           "line": finding.line, "reason": finding.message})
    risk.floors = floors
    if not floors:
        return
    highest = max((RiskBand(f["level"]) for f in floors), key=lambda level: level.rank)
    if highest.rank > risk.risk_level.rank:
        risk.overall_score = max(risk.overall_score, highest.floor)
        risk.risk_level = risk_level_for_score(risk.overall_score)
