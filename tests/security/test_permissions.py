"""The permission policy: every ``can_*`` answered for every persona at the states that matter,
``signers_for`` per risk level, ``require``'s two kinds of refusal, and a scan that keeps role
names out of every other module (views, tags and workflow read the policy, never the roles)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from migrations_app import permissions
from migrations_app.models import Execution, PlanStatus, RiskLevel
from migrations_app.permissions import WorkflowError, require

ROOT = Path(__file__).resolve().parents[2]
PERSONAS = ("author", "other_dba", "manager", "engineer", "outsider", "anonymous")
DBAS = {"author", "other_dba"}
SIGNERS = {"author", "other_dba", "manager"}
READERS = {"author", "other_dba", "manager", "engineer"}


@pytest.fixture
def people(dba, other_dba, manager, engineer, outsider):
    return {"author": dba, "other_dba": other_dba, "manager": manager, "engineer": engineer,
            "outsider": outsider, "anonymous": AnonymousUser()}


@pytest.fixture
def plan(dba):
    from migrations_app import workflow
    from tests.factories import TargetDatabaseFactory

    return workflow.create_plan(dba, target=TargetDatabaseFactory(name="perm"), title="Add a note", schema="shop",
                                operations=[{"type": "ADD_COLUMN", "schema_name": "shop", "table": "orders",
                                             "column": "note", "sql": "ALTER TABLE shop.orders ADD COLUMN note text",
                                             "rollback_sql": "ALTER TABLE shop.orders DROP COLUMN note",
                                             "rollback_note": "", "line": 1}])


def _in_state(plan, status):
    plan.status = status
    return plan


def _allowed(people, check) -> set[str]:
    return {name for name in PERSONAS if check(people[name])}


def _execution(plan, dba, status, kind=Execution.Kind.MIGRATION, plan_status=None):
    if plan_status:
        plan.status = plan_status
        plan.save(update_fields=["status"])
    return Execution.objects.create(plan=plan, user=dba, kind=kind, status=status, sql_hash=plan.sql_hash)


# Plans --------------------------------------------------------------------------------------

def test_only_dbas_write_plans_and_everyone_with_a_role_reads(people):
    assert _allowed(people, permissions.can_create_plan) == DBAS
    assert _allowed(people, permissions.can_read) == READERS


@pytest.mark.parametrize("status", permissions.EDITABLE)
def test_only_the_author_edits_a_plan_that_has_not_run(people, plan, status):
    _in_state(plan, status)
    assert _allowed(people, lambda u: permissions.can_edit_plan(u, plan)) == {"author"}


@pytest.mark.parametrize("status", [PlanStatus.EXECUTING, PlanStatus.SUCCEEDED, PlanStatus.PARTIALLY_APPLIED])
def test_a_plan_that_ran_is_not_edited_even_by_its_author_but_its_title_is(people, plan, status):
    _in_state(plan, status)
    refusal = permissions.can_edit_plan(people["author"], plan)
    assert not refusal.allowed and not refusal.forbidden
    assert "cannot be edited" in refusal.reason
    assert _allowed(people, lambda u: permissions.can_edit_plan_details(u, plan)) == {"author"}


def test_another_dba_is_forbidden_to_edit_and_told_why(people, plan):
    refusal = permissions.can_edit_plan(people["other_dba"], plan)
    assert refusal.forbidden and refusal.reason == "only the author edits a plan"
    assert permissions.can_edit_plan(people["engineer"], plan).reason == "only DBAs edit plans"


@pytest.mark.parametrize("status", PlanStatus.values)
def test_any_dba_analyses_a_plan_in_an_analysable_state(people, plan, status):
    _in_state(plan, status)
    expected = DBAS if status in permissions.ANALYSABLE else set()
    assert _allowed(people, lambda u: permissions.can_analyse(u, plan)) == expected
    if status not in permissions.ANALYSABLE:
        assert not permissions.can_analyse(people["other_dba"], plan).forbidden


@pytest.mark.parametrize("decision, signers", [
    ("approve", {"manager"}), ("review", {"other_dba"}), ("reject", {"other_dba", "manager"}), (None, {"other_dba", "manager"}),
])
@pytest.mark.parametrize("status", permissions.SIGNABLE)
def test_managers_approve_dbas_review_both_reject_and_nobody_signs_their_own_plan(people, plan, status, decision, signers):
    _in_state(plan, status)
    assert _allowed(people, lambda u: permissions.can_sign_off(u, plan, decision)) == signers
    own = permissions.can_sign_off(people["author"], plan, decision)
    assert own.forbidden and own.reason == "nobody signs off their own plan"


def test_a_plan_not_in_review_is_signed_by_nobody_and_the_reason_is_its_state(people, plan):
    _in_state(plan, PlanStatus.DRAFT)
    assert _allowed(people, lambda u: permissions.can_sign_off(u, plan, "reject")) == set()
    refusal = permissions.can_sign_off(people["manager"], plan, "approve")
    assert not refusal.forbidden and refusal.reason == "a plan that is draft cannot be signed off"
    assert permissions.can_sign_off(people["engineer"], plan, "approve").reason == "your role cannot make this decision"


def test_an_unknown_decision_is_refused_for_every_signer(people, plan):
    _in_state(plan, PlanStatus.IN_REVIEW)
    assert _allowed(people, lambda u: permissions.can_sign_off(u, plan, "bless")) == set()


def test_the_sign_off_form_offers_each_role_its_decisions_and_records_the_right_role(people, dba, manager):
    offered = {name: [d for d, _ in permissions.sign_off_decisions(people[name])] for name in PERSONAS}
    assert offered == {"author": ["review", "reject"], "other_dba": ["review", "reject"],
                       "manager": ["approve", "reject"], "engineer": [], "outsider": [], "anonymous": []}
    assert permissions.sign_off_role(manager, "reject") == "Manager"
    assert permissions.sign_off_role(dba, "reject") == "DBA"
    dba.groups.add(*manager.groups.all())
    dba._dataflow_roles = None  # the roles cache of this request-less user
    assert permissions.sign_off_role(dba, "reject") == "Manager"  # a DBA who is also a manager rejects as manager


@pytest.mark.parametrize("status", PlanStatus.values)
def test_dbas_and_managers_tick_the_checklist_until_the_plan_runs(people, plan, status):
    _in_state(plan, status)
    expected = SIGNERS if status in permissions.EDITABLE else set()
    assert _allowed(people, lambda u: permissions.can_tick_checklist(u, plan)) == expected


@pytest.mark.parametrize("status", PlanStatus.values)
def test_only_the_author_reopens_and_only_a_rejected_failed_or_rolled_back_plan(people, plan, status):
    _in_state(plan, status)
    expected = {"author"} if status in (PlanStatus.REJECTED, PlanStatus.FAILED, PlanStatus.ROLLED_BACK) else set()
    assert _allowed(people, lambda u: permissions.can_reopen(u, plan)) == expected


def test_dbas_rehearse_a_plan_with_operations_and_nobody_an_empty_one(people, plan):
    assert _allowed(people, lambda u: permissions.can_rehearse(u, plan)) == DBAS
    plan.operations.all().delete()
    refusal = permissions.can_rehearse(people["author"], plan)
    assert not refusal.forbidden and refusal.reason == "the plan has no operations to rehearse"


# Signers per level ----------------------------------------------------------------------------

def test_each_risk_level_names_the_sign_offs_it_needs():
    needed = {level: [(s.role, s.decision) for s in permissions.signers_for(level)] for level in RiskLevel.values}
    assert needed == {"LOW": [], "MEDIUM": [("DBA", "review")], "HIGH": [("Manager", "approve")],
                      "CRITICAL": [("Manager", "approve")]}
    assert permissions.signers_for(None) == () and permissions.signers_for("") == ()
    assert [permissions.needs_manager(level) for level in RiskLevel.values] == [False, False, True, True]


def test_the_approval_queue_holds_the_levels_each_persona_signs(people):
    assert {name: permissions.levels_signed_by(people[name]) for name in PERSONAS} == {
        "author": {"MEDIUM"}, "other_dba": {"MEDIUM"}, "manager": {"HIGH", "CRITICAL"},
        "engineer": set(), "outsider": set(), "anonymous": set()}


def test_a_sign_off_counts_for_a_level_only_from_the_role_that_level_names(plan, other_dba, manager):
    from migrations_app.models import SignOff

    review = SignOff(plan=plan, user=other_dba, role="DBA", decision="review")
    approval = SignOff(plan=plan, user=manager, role="Manager", decision="approve")
    forged = SignOff(plan=plan, user=other_dba, role="DBA", decision="approve")
    (medium,), (high,) = permissions.signers_for("MEDIUM"), permissions.signers_for("HIGH")
    assert [medium.given_by(s) for s in (review, approval, forged)] == [True, False, False]
    assert [high.given_by(s) for s in (review, approval, forged)] == [False, True, False]


# Execution ------------------------------------------------------------------------------------

def test_dbas_execute_an_approved_plan_while_nothing_of_it_runs(people, plan, dba):
    assert _allowed(people, lambda u: permissions.can_execute(u, plan)) == set()
    assert permissions.can_execute(dba, plan).reason == "the plan is draft, not approved"
    plan.status = PlanStatus.APPROVED
    plan.save(update_fields=["status"])
    assert _allowed(people, lambda u: permissions.can_execute(u, plan)) == DBAS
    _execution(plan, dba, Execution.Status.QUEUED)
    refusal = permissions.can_execute(dba, plan)
    assert not refusal.allowed and not refusal.forbidden
    assert refusal.reason == "an execution of this plan is already queued or running"
    assert permissions.can_execute(people["manager"], plan).reason == "only DBAs execute plans"


def test_dbas_roll_back_only_a_succeeded_migration_of_a_succeeded_plan(people, plan, dba):
    succeeded = _execution(plan, dba, Execution.Status.SUCCEEDED, plan_status=PlanStatus.SUCCEEDED)
    assert _allowed(people, lambda u: permissions.can_roll_back(u, succeeded)) == DBAS
    failed = _execution(plan, dba, Execution.Status.FAILED)
    assert _allowed(people, lambda u: permissions.can_roll_back(u, failed)) == set()
    rollback = _execution(plan, dba, Execution.Status.SUCCEEDED, kind=Execution.Kind.ROLLBACK)
    assert _allowed(people, lambda u: permissions.can_roll_back(u, rollback)) == set()
    plan.status = PlanStatus.ROLLED_BACK
    plan.save(update_fields=["status"])
    succeeded.refresh_from_db()
    assert permissions.can_roll_back(dba, succeeded).reason == "the plan is rolled back, not succeeded"


def test_dbas_resume_or_roll_back_applied_only_a_partially_applied_plan(people, plan, dba):
    partial = _execution(plan, dba, Execution.Status.PARTIALLY_APPLIED, plan_status=PlanStatus.PARTIALLY_APPLIED)
    for check in (permissions.can_resume, permissions.can_roll_back_applied):
        assert _allowed(people, lambda u: check(u, partial)) == DBAS
    failed = _execution(plan, dba, Execution.Status.FAILED)
    for check in (permissions.can_resume, permissions.can_roll_back_applied):
        assert _allowed(people, lambda u: check(u, failed)) == set()
    plan.status = PlanStatus.FAILED
    plan.save(update_fields=["status"])
    partial.refresh_from_db()
    assert permissions.can_resume(dba, partial).reason == "the plan is failed, not partially applied"


@pytest.mark.parametrize("status, stoppable", [
    (Execution.Status.QUEUED, True), (Execution.Status.RUNNING, True), (Execution.Status.SUCCEEDED, False),
    (Execution.Status.FAILED, False), (Execution.Status.PARTIALLY_APPLIED, False),
])
def test_dbas_and_managers_stop_an_active_execution(people, plan, dba, status, stoppable):
    execution = _execution(plan, dba, status)
    assert _allowed(people, lambda u: permissions.can_emergency_stop(u, execution)) == (SIGNERS if stoppable else set())
    assert _allowed(people, permissions.can_emergency_stop) == SIGNERS  # the banner: no execution named


def test_dbas_and_managers_update_incidents(people):
    assert _allowed(people, permissions.can_update_incident) == SIGNERS


# Targets, staging, baselines --------------------------------------------------------------------

@pytest.mark.parametrize("action, allowed", [
    ("manage_targets", DBAS), ("test_connection", DBAS), ("refresh_target_health", SIGNERS),
    ("create_staging", DBAS), ("clean_up_staging", DBAS), ("edit_masking_rules", DBAS),
    ("measure_baselines", DBAS), ("monitor", DBAS), ("create_plan", DBAS), ("sign_off", SIGNERS),
    ("emergency_stop", SIGNERS), ("update_incident", SIGNERS),
])
def test_page_chrome_reads_the_same_answers_as_the_actions(people, action, allowed):
    assert {name for name in PERSONAS if permissions.user_may(people[name])[action]} == allowed
    if action in ("manage_targets", "create_staging", "measure_baselines"):
        assert permissions.user_may(people["engineer"])[action] == getattr(permissions, f"can_{action}")(people["engineer"])


def test_a_cleaned_up_staging_copy_is_not_cleaned_again(people):
    from staging_app.models import StagingEnvironment

    env = StagingEnvironment(status=StagingEnvironment.Status.CLEANED)
    assert _allowed(people, lambda u: permissions.can_clean_up_staging(u, env)) == set()
    env.status = StagingEnvironment.Status.READY
    assert _allowed(people, lambda u: permissions.can_clean_up_staging(u, env)) == DBAS


def test_a_user_of_none_may_do_nothing():
    assert not any(permissions.user_may(None).values())
    assert not permissions.can_read(None)


# require ---------------------------------------------------------------------------------------

def test_require_raises_permission_denied_for_who_asks_and_a_workflow_error_for_the_state(people, plan):
    with pytest.raises(PermissionDenied, match="only the author edits a plan"):
        require(permissions.can_edit_plan(people["other_dba"], plan))
    _in_state(plan, PlanStatus.SUCCEEDED)
    with pytest.raises(WorkflowError, match="a plan that is succeeded cannot be edited"):
        require(permissions.can_edit_plan(people["author"], plan))

    class Refused(Exception):
        pass

    with pytest.raises(Refused, match="cannot be edited"):
        require(permissions.can_edit_plan(people["author"], plan), refused=Refused)
    _in_state(plan, PlanStatus.DRAFT)
    assert require(permissions.can_edit_plan(people["author"], plan)) is None


def test_the_workflow_raises_what_the_policy_answers(people, plan):
    from migrations_app import workflow

    with pytest.raises(PermissionDenied):
        workflow.tick_checklist(plan, people["engineer"], {})
    with pytest.raises(PermissionDenied, match="nobody signs off their own plan"):
        workflow.sign_off(plan, people["author"], "review")
    with pytest.raises(WorkflowError, match="cannot be signed off"):
        workflow.sign_off(plan, people["other_dba"], "review")
    with pytest.raises(PermissionDenied, match="only DBAs start analyses"):
        workflow.request_analysis(plan, people["manager"])
    with pytest.raises(PermissionDenied, match="only the author edits a plan"):
        workflow.remove_operation(plan, people["other_dba"], plan.operations.get().pk)
    assert plan.operations.count() == 1


# No role names outside the policy --------------------------------------------------------------

# Every Django app of the project (a directory with an apps.py) and the site package.
SCANNED = sorted({p.parent.name for p in ROOT.glob("*/apps.py")} | {"dataflow_site"})
POLICY = {"migrations_app/permissions.py", "dataflow_site/roles.py"}
# Justified exceptions, each with its reason:
EXCEPTIONS = {
    # A data migration is frozen history: it creates the groups by name and must not import app
    # code whose names may change later.
    "migrations_app/migrations/0002_roles_and_append_only_audit.py",
}
ROLE_NAMES = {"DBA", "MANAGER", "ENGINEER", "ALL_ROLES"}
ROLE_VALUES = {"DBA", "Manager", "Engineer"}
ROLE_READERS = {"user_roles", "has_role"}  # role_required / readers / require_role stay as coarse view guards


def _names_a_role(node) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in ROLE_NAMES:
            return True
        if isinstance(sub, ast.Attribute) and sub.attr in ROLE_NAMES:
            return True
        if isinstance(sub, ast.Constant) and sub.value in ROLE_VALUES:
            return True
    return False


def role_logic(source: str) -> list[str]:
    """What in ``source`` decides by role name: comparisons and set arithmetic with role names,
    role-name string literals, and reading a user's roles directly."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and _names_a_role(node):
            found.append(f"line {node.lineno}: compares a role name")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr, ast.Sub)) and _names_a_role(node):
            found.append(f"line {node.lineno}: set arithmetic on role names")
        elif isinstance(node, ast.Constant) and node.value in ROLE_VALUES:
            found.append(f"line {node.lineno}: the role name {node.value!r} as a literal")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ROLE_READERS:
                found.append(f"line {node.lineno}: reads the user's roles ({name})")
    return found


def test_the_scan_catches_each_kind_of_role_logic():
    caught = role_logic("\n".join([
        "ok = DBA in user_roles(user)",
        "both = roles & {DBA, MANAGER}",
        "approved = s.role == 'Manager'",
        "q = User.objects.filter(groups__name='DBA')",
        "guard = role_required(DBA)",
    ]))
    assert sorted(caught) == [
        "line 1: compares a role name", "line 1: reads the user's roles (user_roles)",
        "line 2: set arithmetic on role names", "line 3: compares a role name",
        "line 3: the role name 'Manager' as a literal", "line 4: the role name 'DBA' as a literal"]  # line 5: a guard


def test_no_module_outside_the_policy_decides_by_role_name():
    assert {"migrations_app", "staging_app", "baselines_app"} <= set(SCANNED)
    offenders = {}
    for app in SCANNED:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in POLICY or relative in EXCEPTIONS:
                continue
            found = role_logic(path.read_text(encoding="utf-8"))
            if found:
                offenders[relative] = found
    assert not offenders, f"role logic outside migrations_app/permissions.py: {offenders}"


def test_every_listed_exception_still_exists_and_still_needs_listing():
    for relative in EXCEPTIONS:
        path = ROOT / relative
        assert path.exists(), f"{relative} is gone: remove it from EXCEPTIONS"
        assert role_logic(path.read_text(encoding="utf-8")), f"{relative} no longer names roles: remove it"
