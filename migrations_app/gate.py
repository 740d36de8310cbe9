"""The sign-off gate: one function, called by the review page, by approval and by the executor.

Bands and requirements (runbook "Risk Level Guidelines", DESIGN "Plan workflow"):
LOW       standard procedure: a DBA may execute once the plan is analysed.
MEDIUM    additional review: a "reviewed" sign-off by a DBA who is not the author.
HIGH      staging validation required: a manager's approval and a passed staging validation
          of this exact sql_hash.
CRITICAL  full staging test + approval: a manager's approval, a full staging test (rehearsal,
          baselines, verified rollback) and, on production targets, the pre-migration checklist.
Only sign-offs bound to the plan's current review version count: the same SQL and rollback SQL,
the same target identity (host, port, database, user, schema) and the same analysis. The analysis
itself counts only if it was made against the target's current identity.
"""

from __future__ import annotations

import dataclasses

from migrations_app.data_backup import irreversible_notice
from migrations_app.models import AnalysisRun, MigrationPlan, PlanStatus, RiskLevel, SignOff
from migrations_app.permissions import signers_for
from migrations_app.review_policies import policy_requirements
from migrations_app.report_store import stored_report, summary_of
from migrations_app.review_version import analysis_intact, review_version, stored_sql_hash, why_not_current
from migrations_app.staging_validation import latest_failed_rehearsal, passed_validation


@dataclasses.dataclass
class Requirement:
    key: str
    label: str
    met: bool
    detail: str = ""
    link: str = ""      # where on the plan page the missing thing is done (a query string and anchor)
    link_text: str = ""


@dataclasses.dataclass
class GateResult:
    risk_level: str | None
    requirements: list[Requirement]
    notices: list[str] = dataclasses.field(default_factory=list)   # said, not required (data irreversibility)
    failed_rehearsal: object = None   # the latest rehearsal of this SQL, when it failed: shown before any approval

    @property
    def satisfied(self) -> bool:
        return bool(self.requirements) and all(r.met for r in self.requirements)

    @property
    def missing(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.met]

    def explain(self) -> str:
        if self.satisfied:
            return "All requirements are met."
        return "What is missing: " + "; ".join(f"{r.label}{f' ({r.detail})' if r.detail else ''}" for r in self.missing)


def current_analysis(plan: MigrationPlan) -> AnalysisRun | None:
    identity = plan.target.connection_identity(plan.schema)
    return (plan.analyses.filter(sql_hash=plan.sql_hash, status=AnalysisRun.Status.SUCCEEDED,
                                 target_identity=identity)
            .defer("report")  # 34 MB on a 10,000-statement plan: read in parts (report_store)
            .order_by("-finished_at", "-id").first())


def current_review_version(plan: MigrationPlan) -> str:
    return review_version(plan, current_analysis(plan))


def _counted(sign_off: SignOff, plan: MigrationPlan, analysis, version: str, identity: dict) -> bool:
    # Each bound part is compared on its own as well as through the hash, so a row edited by
    # hand (a copied review_hash, say) still does not count for another target or analysis.
    return (sign_off.review_hash == version and sign_off.sql_hash == plan.sql_hash
            and sign_off.target_identity == identity and analysis is not None and sign_off.analysis_id == analysis.pk)


def valid_sign_offs(plan: MigrationPlan, analysis=None) -> list[SignOff]:
    analysis = analysis or current_analysis(plan)
    version, identity = review_version(plan, analysis), plan.target.connection_identity(plan.schema)
    candidates = plan.sign_offs.filter(voided=False).exclude(user=plan.author).select_related("user")
    return [s for s in candidates if _counted(s, plan, analysis, version, identity)]


def stale_sign_offs(plan: MigrationPlan, analysis=None) -> list[tuple[SignOff, str]]:
    """Unvoided sign-offs that no longer count, each with the reason."""
    analysis = analysis or current_analysis(plan)
    counted = {s.pk for s in valid_sign_offs(plan, analysis)}
    candidates = plan.sign_offs.filter(voided=False).exclude(user=plan.author).exclude(pk__in=counted)
    return [(s, why_not_current(s, plan, analysis)) for s in candidates.select_related("user")]


def staging_validation(plan: MigrationPlan, *, full: bool) -> tuple[bool, str]:
    """Whether this exact SQL passed a rehearsal on a staging copy (with baselines and a verified
    rollback when ``full``)."""
    return passed_validation(plan, full=full)


def evaluate_gate(plan: MigrationPlan, analysis: AnalysisRun | None = None, *, strict: bool = True) -> GateResult:
    """``analysis``: the plan's current analysis when the caller already read it (the review page).
    ``strict`` (approval, the executor, the API): the analysis's report is read whole and must still
    be the one its stored digest was made of; a page view (``strict=False``) trusts the stored
    digest and reads the policy and backup facts from the stored summary."""
    if stored_sql_hash(plan) != plan.sql_hash:
        # the rows were changed behind the workflow: what would run is not what was hashed and signed
        return GateResult(None, [Requirement(
            "stored_sql", "Operations as reviewed", False,
            "the stored operations do not match the SQL that was reviewed (changed outside the app); "
            "replace the SQL so it is analysed and signed again")])
    analysis = analysis or current_analysis(plan)
    requirements = [Requirement(
        "analysis", "Analysis of the current SQL", analysis is not None,
        "" if analysis else "run the analysis on this version of the plan",
    )]
    level = analysis.risk_level if analysis else None
    if analysis is None:
        return GateResult(None, requirements)

    if strict:
        facts = stored_report(analysis)
        if not analysis_intact(analysis, facts):
            # the report (or its risk, SQL hash or target) was changed behind the workflow
            return GateResult(None, [Requirement(
                "stored_analysis", "Analysis as reviewed", False,
                "the stored analysis does not match the one that was reviewed and signed (changed outside "
                "the app); analyse the plan again")])
    else:
        facts = summary_of(analysis)
    # the review policy: analysed under the policy in force, and no error it says blocks
    requirements += [Requirement(*requirement) for requirement in policy_requirements(plan, facts)]
    sign_offs = valid_sign_offs(plan, analysis)
    stale = stale_sign_offs(plan, analysis)
    if any(s.decision == SignOff.Decision.REJECT for s in sign_offs):
        requirements.append(Requirement("not_rejected", "No rejection of this version", False, "a reviewer rejected it"))

    for signer in signers_for(level):
        given = [s for s in sign_offs if signer.given_by(s)]
        requirements.append(Requirement(
            signer.key, signer.label, bool(given),
            f"{signer.done} {given[0].user.username}" if given else _not_yet(signer.not_yet, stale)))
    if level in (RiskLevel.HIGH, RiskLevel.CRITICAL):
        full = level == RiskLevel.CRITICAL
        met, detail = staging_validation(plan, full=full)
        label = ("Full staging test: rehearsal, baselines and verified rollback of this SQL" if full
                 else "Passed staging validation of this SQL")
        requirements.append(Requirement("staging", label, met, detail,
                                        "" if met else "#plan-rehearsals", "" if met else "Rehearse on a staging copy"))
    if level == RiskLevel.CRITICAL and plan.target.is_production:
        done = plan.checklist_complete
        requirements.append(Requirement(
            "checklist", "Pre-migration checklist (backup done and verified, RTO and RPO confirmed)", done,
            f"ticked by {plan.checklist_by.username}" if done and plan.checklist_by
            else f"not complete: CRITICAL plans on the production target {plan.target.name} need it",
            "" if done else "?tab=risk#checklist", "" if done else "Open the checklist"))
    notice = irreversible_notice(facts)
    failed = latest_failed_rehearsal(plan) if level in (RiskLevel.HIGH, RiskLevel.CRITICAL) else None
    return GateResult(level, requirements, [notice] if notice else [], failed)


def _not_yet(text: str, stale) -> str:
    if not stale:
        return text
    reasons = sorted({reason for _, reason in stale})
    counted = "1 earlier sign-off no longer counts" if len(stale) == 1 else f"{len(stale)} earlier sign-offs no longer count"
    return f"{text}; {counted}: {', '.join(reasons)}"


def executable(plan: MigrationPlan, gate: "GateResult | None" = None) -> tuple[bool, str]:
    """What the executor re-checks just before running. ``gate``: ``evaluate_gate(plan)`` already
    evaluated by the caller (a page that also shows it: the strict gate re-reads the report)."""
    if plan.status != PlanStatus.APPROVED:
        return False, f"the plan is {plan.get_status_display().lower()}, not approved"
    gate = gate if gate is not None else evaluate_gate(plan)
    if not gate.satisfied:
        return False, gate.explain()
    return True, ""
