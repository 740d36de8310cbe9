"""The sign-off gate: one function, called by the review page, by approval and by the executor.

Bands and requirements (runbook "Risk Level Guidelines", DESIGN "Plan workflow"):
LOW       standard procedure: a DBA may execute once the plan is analysed.
MEDIUM    additional review: a "reviewed" sign-off by a DBA who is not the author.
HIGH      staging validation required: a manager's approval and a passed staging validation
          of this exact sql_hash.
CRITICAL  full staging test + approval: a manager's approval, a full staging test (rehearsal,
          baselines, verified rollback) and, on production targets, the pre-migration checklist.
Only sign-offs that carry the plan's current sql_hash count.
"""

from __future__ import annotations

import dataclasses

from migrations_app.models import AnalysisRun, MigrationPlan, PlanStatus, RiskLevel, SignOff


@dataclasses.dataclass
class Requirement:
    key: str
    label: str
    met: bool
    detail: str = ""


@dataclasses.dataclass
class GateResult:
    risk_level: str | None
    requirements: list[Requirement]
    notices: list[str] = dataclasses.field(default_factory=list)   # said, not required (data irreversibility)

    @property
    def satisfied(self) -> bool:
        return bool(self.requirements) and all(r.met for r in self.requirements)

    @property
    def missing(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.met]

    def explain(self) -> str:
        if self.satisfied:
            return "All requirements are met."
        return "Missing: " + "; ".join(f"{r.label}{f' ({r.detail})' if r.detail else ''}" for r in self.missing)


def current_analysis(plan: MigrationPlan) -> AnalysisRun | None:
    return (plan.analyses.filter(sql_hash=plan.sql_hash, status=AnalysisRun.Status.SUCCEEDED)
            .order_by("-finished_at", "-id").first())


def valid_sign_offs(plan: MigrationPlan):
    return plan.sign_offs.filter(sql_hash=plan.sql_hash, voided=False).exclude(user=plan.author)


def staging_validation(plan: MigrationPlan, *, full: bool) -> tuple[bool, str]:
    """Ask the staging app whether this exact SQL passed a rehearsal (with baselines and a verified
    rollback when ``full``). Until the staging app provides rehearsals the requirement is unmet."""
    try:
        from staging_app.validation import passed_validation
    except ImportError:
        return False, "staging rehearsals are not available in this installation yet"
    return passed_validation(plan, full=full)


def evaluate_gate(plan: MigrationPlan) -> GateResult:
    analysis = current_analysis(plan)
    requirements = [Requirement(
        "analysis", "Analysis of the current SQL", analysis is not None,
        "" if analysis else "run the analysis on this version of the plan",
    )]
    level = analysis.risk_level if analysis else None
    if analysis is None:
        return GateResult(None, requirements)

    sign_offs = list(valid_sign_offs(plan))
    if any(s.decision == SignOff.Decision.REJECT for s in sign_offs):
        requirements.append(Requirement("not_rejected", "No rejection of this version", False, "a reviewer rejected it"))

    if level == RiskLevel.MEDIUM:
        reviewed = [s for s in sign_offs if s.decision == SignOff.Decision.REVIEW and s.role == "DBA"]
        requirements.append(Requirement(
            "dba_review", "Review sign-off by a DBA other than the author", bool(reviewed),
            f"reviewed by {reviewed[0].user.username}" if reviewed else "no review yet"))
    if level in (RiskLevel.HIGH, RiskLevel.CRITICAL):
        approvals = [s for s in sign_offs if s.decision == SignOff.Decision.APPROVE and s.role == "Manager"]
        requirements.append(Requirement(
            "manager_approval", "Approval by a manager", bool(approvals),
            f"approved by {approvals[0].user.username}" if approvals else "no manager approval yet"))
        full = level == RiskLevel.CRITICAL
        met, detail = staging_validation(plan, full=full)
        label = ("Full staging test: rehearsal, baselines and verified rollback of this SQL" if full
                 else "Passed staging validation of this SQL")
        requirements.append(Requirement("staging", label, met, detail))
    if level == RiskLevel.CRITICAL and plan.target.is_production:
        requirements.append(Requirement(
            "checklist", "Pre-migration checklist (backup done and verified, RTO and RPO confirmed)",
            plan.checklist_complete,
            f"ticked by {plan.checklist_by.username}" if plan.checklist_complete and plan.checklist_by else "not complete"))
    from migrations_app.data_backup import irreversible_notice

    notice = irreversible_notice(analysis.report)
    return GateResult(level, requirements, [notice] if notice else [])


def executable(plan: MigrationPlan) -> tuple[bool, str]:
    """What the executor re-checks just before running."""
    if plan.status != PlanStatus.APPROVED:
        return False, f"the plan is {plan.get_status_display().lower()}, not approved"
    gate = evaluate_gate(plan)
    if not gate.satisfied:
        return False, gate.explain()
    return True, ""
