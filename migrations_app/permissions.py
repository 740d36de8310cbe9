"""Who may do what, now: the one answer to "may this user do this, to this object, at this moment?".

Every action has a ``can_<action>(user, obj)`` that returns a :class:`Permission`. The workflow,
the executor, the recovery and the rehearsal request call it on the rows they hold locked and
raise through :func:`require`; views, template tags and context processors only read it, so a
button is shown exactly when the POST behind it would be accepted.

A refusal carries a reason in words for the user and says whether it is about *who* asks
(``forbidden``: the view answers 403) or about *when* (the object's state: a ``WorkflowError``
that the page shows as a message). Which roles sign which risk level is :func:`signers_for`.

Role names are compared here and in ``dataflow_site.roles`` only; a test scans the other modules.
"""

from __future__ import annotations

import dataclasses

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from dataflow_site import step_up
from dataflow_site.roles import ALL_ROLES, DBA, MANAGER, user_roles
from migrations_app.models import AnalysisRun, Execution, PlanStatus, RiskLevel, SignOff


class WorkflowError(Exception):
    """The object is not in a state that allows this. The message is for the user."""


EDITABLE = (PlanStatus.DRAFT, PlanStatus.ANALYZING, PlanStatus.IN_REVIEW, PlanStatus.APPROVED,
            PlanStatus.REJECTED, PlanStatus.FAILED)
ANALYSABLE = (PlanStatus.DRAFT, PlanStatus.FAILED, PlanStatus.REJECTED, PlanStatus.IN_REVIEW)
SIGNABLE = (PlanStatus.IN_REVIEW, PlanStatus.APPROVED)
# A rolled-back plan left the target as it was before: its author may take it up again.
REOPENABLE = (PlanStatus.REJECTED, PlanStatus.FAILED, PlanStatus.ROLLED_BACK)


@dataclasses.dataclass(frozen=True)
class Permission:
    allowed: bool
    reason: str = ""
    forbidden: bool = False  # refused because of who asks (403), not because of the object's state

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Permission(True)


def _forbidden(reason: str) -> Permission:
    return Permission(False, reason, forbidden=True)


def _not_now(reason: str) -> Permission:
    return Permission(False, reason)


def require(result: Permission, *, refused=WorkflowError) -> None:
    """Raise unless allowed: ``PermissionDenied`` for who asks, ``refused`` for the object's state."""
    if result.allowed:
        return
    if result.forbidden:
        raise PermissionDenied(result.reason)
    raise refused(result.reason)


def _roles(user) -> set[str]:
    return user_roles(user) if user is not None else set()


def _role(user, roles: tuple[str, ...], reason: str) -> Permission:
    return ALLOWED if _roles(user) & set(roles) else _forbidden(reason)


def _status(obj) -> str:
    return obj.get_status_display().lower()


def _is_author(user, plan) -> bool:
    return user is not None and user.is_authenticated and plan.author_id == user.pk


def _first_refusal(*checks) -> Permission:
    """Checks are callables, run in order, so a later one never runs for a user an earlier one refused."""
    for check in checks:
        result = check()
        if not result.allowed:
            return result
    return ALLOWED


# Signers per risk level ------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Signer:
    """One sign-off a risk level needs: which role makes which decision, and how the gate says it."""
    key: str
    label: str
    role: str
    decision: str
    done: str       # "reviewed by alice"
    not_yet: str

    def given_by(self, sign_off) -> bool:
        return sign_off.role == self.role and sign_off.decision == self.decision


DBA_REVIEW = Signer("dba_review", "Review sign-off by a DBA other than the author", DBA, SignOff.Decision.REVIEW,
                    "reviewed by", "no review of this version yet")
MANAGER_APPROVAL = Signer("manager_approval", "Approval by a manager", MANAGER, SignOff.Decision.APPROVE,
                          "approved by", "no manager approval of this version yet")
_SIGNERS = {RiskLevel.MEDIUM: (DBA_REVIEW,), RiskLevel.HIGH: (MANAGER_APPROVAL,),
            RiskLevel.CRITICAL: (MANAGER_APPROVAL,)}


def signers_for(level: str | None) -> tuple[Signer, ...]:
    """The sign-offs a plan at ``level`` needs (LOW: none, MEDIUM: a DBA's review, HIGH and
    CRITICAL: a manager's approval). Nobody signs their own plan, whatever the level."""
    return _SIGNERS.get(level or "", ())


def needs_manager(level: str | None) -> bool:
    return any(signer.role == MANAGER for signer in signers_for(level))


def levels_signed_by(user) -> set[str]:
    """Risk levels whose required sign-off this user's roles can give (the approval queue)."""
    roles = _roles(user)
    return {level for level, signers in _SIGNERS.items() if any(s.role in roles for s in signers)}


# Sign-off decisions ----------------------------------------------------------------------------

DECISION_LABELS = {SignOff.Decision.APPROVE: "Approve", SignOff.Decision.REVIEW: "Mark reviewed",
                   SignOff.Decision.REJECT: "Reject"}


def sign_off_role(user, decision: str) -> str | None:
    """The role a sign-off is recorded under: managers approve, DBAs review, either rejects (as
    manager when the user is both). None when the user's roles cannot make this decision."""
    roles = _roles(user)
    if decision == SignOff.Decision.APPROVE:
        return MANAGER if MANAGER in roles else None
    if decision == SignOff.Decision.REVIEW:
        return DBA if DBA in roles else None
    if decision == SignOff.Decision.REJECT:
        return MANAGER if MANAGER in roles else (DBA if DBA in roles else None)
    return None


def sign_off_decisions(user, plan=None) -> list[tuple[str, str]]:
    """The decisions the sign-off form offers this user, in the form's order; with ``plan``, only
    those the server would accept now (an approval that counts for nothing is not offered)."""
    if plan is not None:
        return [(decision, label) for decision, label in DECISION_LABELS.items()
                if can_sign_off(user, plan, decision)]
    return [(decision, label) for decision, label in DECISION_LABELS.items() if sign_off_role(user, decision)]


def sign_off_limits(user, plan) -> list[str]:
    """Why a decision this user's role could make is not offered on this plan (said beside the form)."""
    return [refusal.reason for decision in (SignOff.Decision.APPROVE, SignOff.Decision.REVIEW)
            if sign_off_role(user, decision) and not (refusal := can_sign_off(user, plan, decision))
            and not refusal.forbidden and plan.status in SIGNABLE]


def _counts_at_level(plan, decision: str) -> Permission:
    """An approval or review is recorded only where the plan's risk level asks for it: a
    manager's "approve" on a MEDIUM plan would be a record that satisfies nothing."""
    level = plan.risk_level
    if decision == SignOff.Decision.REJECT or not level:
        return ALLOWED
    needed = signers_for(level)
    if any(signer.decision == decision for signer in needed):
        return ALLOWED
    label = DECISION_LABELS.get(decision, decision).lower()
    if not needed:
        return _not_now(f"a {level} plan needs no sign-off: \"{label}\" would count for nothing")
    return _not_now(f"\"{label}\" counts for nothing on a {level} plan: it needs "
                    + " and ".join(signer.label[0].lower() + signer.label[1:] for signer in needed))


def _not_signed_yet(user, plan) -> Permission:
    """One sign-off per person and version: the buttons go once you have signed what is shown."""
    analysis = (plan.analyses.filter(sql_hash=plan.sql_hash, status=AnalysisRun.Status.SUCCEEDED)
                .order_by("-finished_at", "-id").only("pk").first())
    if analysis and plan.sign_offs.filter(user=user, voided=False, sql_hash=plan.sql_hash,
                                          analysis_id=analysis.pk).exists():
        return _not_now("you have already signed off this version of the plan")
    return ALLOWED


# Plans -----------------------------------------------------------------------------------------

def can_read(user) -> Permission:
    return _role(user, ALL_ROLES, "only DBAs, managers and engineers use this tool")


def can_comment(user, plan=None) -> Permission:
    """Every reader may join a plan's thread, in any state: a comment changes nothing that runs."""
    return _role(user, ALL_ROLES, "only DBAs, managers and engineers comment on plans")


def can_create_plan(user) -> Permission:
    return _role(user, (DBA,), "only DBAs write plans")


def can_read_target_catalog(user) -> Permission:
    """The SQL editor's completion list (a target's schemas, tables and columns, read live):
    for those who write plans' SQL, the only forms that show the editor."""
    return _role(user, (DBA,), "only DBAs, who write plans, read a target's tables for SQL completion")


def can_edit_plan_details(user, plan) -> Permission:
    """Title and description: the author, in any state (they do not change what runs)."""
    return _first_refusal(
        lambda: _role(user, (DBA,), "only DBAs edit plans"),
        lambda: ALLOWED if _is_author(user, plan) else _forbidden("only the author edits a plan"))


def can_edit_plan(user, plan) -> Permission:
    """Operations, SQL, the statement timeout and mitigation copies: the author, before it runs."""
    return _first_refusal(
        lambda: can_edit_plan_details(user, plan),
        lambda: ALLOWED if plan.status in EDITABLE else _not_now(f"a plan that is {_status(plan)} cannot be edited"))


def can_analyse(user, plan) -> Permission:
    return _first_refusal(
        lambda: _role(user, (DBA,), "only DBAs start analyses"),
        lambda: ALLOWED if plan.status in ANALYSABLE
        else _not_now(f"a plan that is {_status(plan)} cannot be analysed now"))


def can_sign_off(user, plan, decision: str | None = None) -> Permission:
    """``decision`` None: may the user give any sign-off (the form is shown)."""
    def role() -> Permission:
        if decision is None:
            return _role(user, (DBA, MANAGER), "only DBAs and managers sign off plans")
        if decision not in DECISION_LABELS:
            return _not_now(f"unknown decision {decision!r}")
        return ALLOWED if sign_off_role(user, decision) else _forbidden("your role cannot make this decision")

    return _first_refusal(
        lambda: _forbidden("nobody signs off their own plan") if _is_author(user, plan) else ALLOWED,
        role,
        lambda: ALLOWED if plan.status in SIGNABLE
        else _not_now(f"a plan that is {_status(plan)} cannot be signed off"),
        lambda: _not_signed_yet(user, plan) if user.is_authenticated else ALLOWED,
        lambda: _counts_at_level(plan, decision) if decision else ALLOWED)


def can_tick_checklist(user, plan) -> Permission:
    return _first_refusal(
        lambda: _role(user, (DBA, MANAGER), "only DBAs and managers complete the pre-migration checklist"),
        lambda: ALLOWED if plan.status in EDITABLE else _not_now("the checklist of a plan that ran is closed"))


def can_reopen(user, plan) -> Permission:
    return _first_refusal(
        lambda: can_edit_plan_details(user, plan),
        lambda: ALLOWED if plan.status in REOPENABLE else _not_now("only a rejected, failed or rolled-back plan is reopened"))


def can_rehearse(user, plan) -> Permission:
    return _first_refusal(
        lambda: _role(user, (DBA,), "only DBAs rehearse plans"),
        # after it ran (or while it runs) a rehearsal of this version proves nothing any more
        lambda: ALLOWED if plan.status in EDITABLE
        else _not_now(f"a plan that is {_status(plan)} is not rehearsed; reopen it first"
                      if plan.status in REOPENABLE else f"a plan that is {_status(plan)} is not rehearsed"),
        lambda: ALLOWED if plan.operations.exists() else _not_now("the plan has no operations to rehearse"))


# Execution -------------------------------------------------------------------------------------

def _no_active_execution(plan) -> Permission:
    if plan.executions.filter(status__in=Execution.ACTIVE).exists():
        return _not_now("an execution of this plan is already queued or running")
    return ALLOWED


def can_execute(user, plan) -> Permission:
    """Role and state; the sign-off gate (``gate.executable``) is checked beside it."""
    return _first_refusal(
        lambda: _role(user, (DBA,), "only DBAs execute plans"),
        lambda: ALLOWED if plan.status == PlanStatus.APPROVED
        else _not_now(f"the plan is {_status(plan)}, not approved"),
        lambda: _no_active_execution(plan))


def can_roll_back(user, execution) -> Permission:
    """Roll back a succeeded migration with the rollback plan stored from its run."""
    return _first_refusal(
        lambda: _role(user, (DBA,), "only DBAs roll back plans"),
        lambda: ALLOWED if execution.kind == Execution.Kind.MIGRATION and execution.status == Execution.Status.SUCCEEDED
        else _not_now("only a succeeded migration is rolled back"),
        lambda: ALLOWED if execution.plan.status == PlanStatus.SUCCEEDED
        else _not_now(f"the plan is {_status(execution.plan)}, not succeeded"))


def _partially_applied(execution) -> Permission:
    if execution.kind != Execution.Kind.MIGRATION or execution.status != Execution.Status.PARTIALLY_APPLIED:
        return _not_now("only a partially applied migration is resumed or rolled back this way")
    if execution.plan.status != PlanStatus.PARTIALLY_APPLIED:
        return _not_now(f"the plan is {_status(execution.plan)}, not partially applied")
    return ALLOWED


def can_resume(user, execution) -> Permission:
    return _first_refusal(lambda: _role(user, (DBA,), "only DBAs resume plans"),
                          lambda: _partially_applied(execution))


def can_roll_back_applied(user, execution) -> Permission:
    return _first_refusal(lambda: _role(user, (DBA,), "only DBAs roll back plans"),
                          lambda: _partially_applied(execution))


def can_emergency_stop(user, execution=None) -> Permission:
    """``execution`` None: may the user stop migrations at all (the running banner)."""
    return _first_refusal(
        lambda: _role(user, (DBA, MANAGER), "only DBAs and managers stop migrations"),
        lambda: ALLOWED if execution is None or execution.is_active
        else _not_now("this execution is not running (or a stop was already requested)"))


def can_update_incident(user, incident=None) -> Permission:
    return _role(user, (DBA, MANAGER), "only DBAs and managers update incidents")


# Targets, staging copies, baselines --------------------------------------------------------------

def can_manage_targets(user) -> Permission:
    """Add, edit and delete target databases."""
    return _role(user, (DBA,), "only DBAs add, edit and delete targets")


def can_test_connection(user) -> Permission:
    return _role(user, (DBA,), "only DBAs test target connections")


def can_refresh_target_health(user) -> Permission:
    return _role(user, (DBA, MANAGER), "only DBAs and managers refresh a target's health")


def can_create_staging(user) -> Permission:
    return _role(user, (DBA,), "only DBAs create staging copies")


def can_clean_up_staging(user, environment=None) -> Permission:
    return _first_refusal(
        lambda: _role(user, (DBA,), "only DBAs clean up staging copies"),
        lambda: ALLOWED if environment is None or environment.status != environment.Status.CLEANED
        else _not_now("this staging copy is already cleaned up"))


def can_edit_masking_rules(user) -> Permission:
    return _role(user, (DBA,), "only DBAs change masking rules")


def can_measure_baselines(user) -> Permission:
    return _role(user, (DBA,), "only DBAs measure baselines")


def can_monitor(user) -> Permission:
    """Start and stop the scheduled monitoring of a production target's baselines."""
    return _role(user, (DBA,), "only DBAs start and stop monitoring")


# Review policy ---------------------------------------------------------------------------------

def can_edit_review_policy(user) -> Permission:
    """Change the rule states, blocking errors and allowed ignores per environment (audited)."""
    return _role(user, (DBA,), "only DBAs change the review policy")


# API tokens ------------------------------------------------------------------------------------

def can_manage_api_tokens(user) -> Permission:
    """Create and revoke one's own tokens; a token acts as its user, so every action through it
    is asked again of this module with the user's roles."""
    return _role(user, ALL_ROLES, "only DBAs, managers and engineers use this tool")


def can_issue_write_token(user) -> Permission:
    return _role(user, (DBA,), "only DBAs write plans, so only DBAs need a read and write token")


def can_accept_drift(user, finding=None) -> Permission:
    """Record a target's drifted schema as its new baseline (a ledger entry, audited). The finding
    comes from the integration layer above, so it is read by its status value only."""
    return _first_refusal(
        lambda: _role(user, (DBA,), "only DBAs accept schema drift as the new baseline"),
        lambda: ALLOWED if finding is None or finding.status == "open"
        else _not_now(f"this drift is {finding.get_status_display().lower()}; only the open one can be accepted"))


# Step-up: a fresh code from the user's authenticator ---------------------------------------------

RUNS_ON_TARGET = ("execute", "resume", "roll_back", "roll_back_applied")


def must_enrol(user) -> bool:
    """Users in ``DATAFLOW_STEP_UP_ROLES`` (unset: DBAs and managers) confirm with an authenticator."""
    listed = settings.DATAFLOW_STEP_UP_ROLES
    return bool(_roles(user) & set((DBA, MANAGER) if listed is None else listed))


def needs_step_up(user, action: str, obj, decision: str | None = None) -> bool:
    """A sign-off (not a rejection) of a HIGH or CRITICAL plan, and a run of a plan (``obj``) or of
    an execution's recovery (``obj`` the execution) on a production target, by a user holding a
    role named in ``DATAFLOW_STEP_UP_ROLES``."""
    if not must_enrol(user):
        return False
    if action == "sign_off":
        return decision != SignOff.Decision.REJECT and obj.risk_level in (RiskLevel.HIGH, RiskLevel.CRITICAL)
    if action in RUNS_ON_TARGET:
        plan = obj if action == "execute" else obj.plan
        return plan.target.environment == "production"
    raise ValueError(f"unknown step-up action {action!r}")


def can_pass_step_up(user, action: str, obj, decision: str | None = None) -> Permission:
    """Asked by the workflow beside ``can_<action>``; the code itself is checked by
    ``dataflow_site.step_up`` and only its time, in this session, is read here."""
    if not needs_step_up(user, action, obj, decision):
        return ALLOWED
    if not step_up.is_enrolled(user):
        return _not_now("this needs a code from an authenticator app, and you have none enrolled: "
                        "enrol one on your profile page")
    confirmed, limit = step_up.confirmed_at(user), settings.DATAFLOW_STEP_UP_MAX_AGE_SECONDS
    if confirmed is None:
        return _not_now("this needs a code from your authenticator app: enter it in the form")
    if (timezone.now() - confirmed).total_seconds() > limit:
        return _not_now(f"your last authenticator code is older than {limit // 60} minutes: enter a new one")
    return ALLOWED


def user_may(user) -> dict[str, Permission]:
    """The actions that need no object, for page chrome (links to forms, the queue, the banner)."""
    return {
        "create_plan": can_create_plan(user),
        "sign_off": ALLOWED if levels_signed_by(user) else _forbidden("only DBAs and managers sign off plans"),
        "emergency_stop": can_emergency_stop(user),
        "update_incident": can_update_incident(user),
        "manage_targets": can_manage_targets(user),
        "test_connection": can_test_connection(user),
        "refresh_target_health": can_refresh_target_health(user),
        "create_staging": can_create_staging(user),
        "clean_up_staging": can_clean_up_staging(user),
        "edit_masking_rules": can_edit_masking_rules(user),
        "measure_baselines": can_measure_baselines(user),
        "monitor": can_monitor(user),
        "edit_review_policy": can_edit_review_policy(user),
        "must_enrol_authenticator": ALLOWED if must_enrol(user) else _not_now("your roles need no authenticator"),
    }
