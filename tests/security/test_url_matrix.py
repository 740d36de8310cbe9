"""Every URL of the tool, found by walking the resolver (admin and the login/logout views aside):
anonymous users are sent to the login page, users without a role get 403, each role may GET and
POST exactly what the README's Roles table allows, and a GET never changes anything.

A URL added later without an entry in ACCESS fails here, so protection is decided per view."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

D, M, E = "dba", "manager", "engineer"
ALL = {D, M, E}
NONE: set[str] = set()

# name -> (roles that may GET, roles that may POST). A POST-only view has no GET roles (405 for
# its POST roles, 403 for the rest); a read-only page has no POST roles (405 for its readers).
ACCESS = {
    "dashboard": (ALL, NONE), "audit_list": (ALL, NONE),
    "target_list": (ALL, NONE), "target_add": ({D}, {D}), "target_test_connection": (NONE, {D}),
    "target_edit": ({D}, {D}), "target_delete": ({D}, {D}), "target_test_connection_existing": (NONE, {D}),
    "target_health": (ALL, NONE), "target_refresh_health": (NONE, {D, M}), "target_health_row": (ALL, NONE),
    "sql_completion": ({D}, NONE),
    "plan_list": (ALL, NONE), "plan_create": ({D}, {D}), "plan_queue": (ALL, NONE), "plan_detail": (ALL, NONE),
    "plan_analysis_status": (ALL, NONE), "plan_analyse": (NONE, {D}), "plan_edit_details": ({D}, {D}),
    "plan_replace_sql": ({D}, {D}), "plan_operation_add": (NONE, {D}), "plan_operation_edit": ({D}, {D}),
    "plan_operation_remove": (NONE, {D}), "plan_operation_move": (NONE, {D}),
    "plan_sign_off": (NONE, {D, M}), "plan_checklist": (NONE, {D, M}), "plan_reopen": (NONE, {D}),
    "plan_apply_mitigation": (NONE, {D}),
    "plan_comment": (NONE, ALL), "inbox": (ALL, NONE),
    "execution_start": ({D}, {D}), "execution_detail": (ALL, NONE), "execution_progress": (ALL, NONE),
    "execution_rollback": ({D}, {D}), "execution_stop": ({D, M}, {D, M}),
    "execution_resume": ({D}, {D}), "execution_rollback_applied": ({D}, {D}),
    "incident_list": (ALL, NONE), "incident_detail": (ALL, NONE), "incident_update": (NONE, {D, M}),
    "alert_list": (ALL, NONE),
    "staging_list": (ALL, NONE), "staging_create": ({D}, {D}), "staging_masking": (ALL, {D}),
    "rehearse": (NONE, {D}), "plan_rehearsals": (ALL, NONE), "rehearsal_detail": (ALL, NONE),
    "rehearsal_progress": (ALL, NONE), "staging_detail": (ALL, NONE), "staging_progress": (ALL, NONE),
    "staging_cleanup": ({D}, {D}),
    "baseline_list": (ALL, NONE), "baseline_measure": ({D}, {D}), "baseline_monitor": (NONE, {D}),
    "baseline_monitor_stop": (NONE, {D}), "baseline_run": (ALL, NONE), "baseline_run_progress": (ALL, NONE),
    "baseline_validation": (ALL, NONE), "baseline_history": (ALL, NONE),
    "target_ledger": (ALL, NONE), "drift_accept": (NONE, {D}), "webhook_list": (ALL, NONE),
    "api_tokens": (ALL, ALL), "api_token_revoke": (NONE, ALL),
    "profile": (ALL, NONE), "authenticator_start": (NONE, ALL), "authenticator_confirm": (NONE, ALL),
    "authenticator_remove": (NONE, ALL),
    "review_policy": (ALL, {D}), "review_policy_download": (ALL, NONE),
    "review_policy_version_download": (ALL, NONE), "rule_list": (ALL, NONE), "rule_detail": (ALL, NONE),
}

EXCLUDED_NAMES = {"login", "logout"}

# What a GET may write: the health page records the observation it just made (the dashboard's
# health column reads it); that is a cache of the target's state, not a change to the tool's.
GET_MAY_WRITE = {("migrations_app", "targetdatabase"): {"last_health", "last_health_at"}}
WATCHED_APPS = ("migrations_app", "staging_app", "baselines_app", "django_q", "auth")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            # the JSON API authenticates by token, not by the login page: tests/api has its role matrix
            if not route.startswith(("admin/", "api/")):
                yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and pattern.name not in EXCLUDED_NAMES:
            yield route, pattern


URLS = sorted((pattern.name or route, route, tuple(pattern.pattern.regex.groupindex))
              for route, pattern in _walk(get_resolver().url_patterns))


def test_the_walk_finds_every_app_and_every_url_has_a_name_and_an_access_entry():
    names = [name for name, _, _ in URLS]
    assert {"dashboard", "staging_list", "baseline_list", "incident_update"} <= set(names)
    assert len(names) == len(set(names)), "two URL patterns share a name"
    unknown = sorted(set(names) - set(ACCESS))
    assert not unknown, f"add these URLs to ACCESS with the roles that may GET and POST them: {unknown}"


@pytest.fixture
def world(dba, manager, engineer, outsider):
    """One object of each kind the URLs name."""
    from baselines_app.models import BaselineRun, PerformanceValidation
    from migrations_app import workflow
    from migrations_app.models import Alert, Execution, Incident
    from migrations_app.models import Rehearsal
    from staging_app.models import StagingEnvironment
    from tests.factories import TargetDatabaseFactory

    # a port where nothing listens: pages that connect fail fast and say so
    target = TargetDatabaseFactory(name="matrix", host="127.0.0.1", port=9)
    plan = workflow.create_plan(dba, target=target, title="Matrix plan", schema="shop", operations=[
        {"type": "ADD_COLUMN", "schema_name": "shop", "table": "orders", "column": "note",
         "sql": "ALTER TABLE shop.orders ADD COLUMN note text", "rollback_sql": "ALTER TABLE shop.orders DROP COLUMN note",
         "rollback_note": "", "line": 1}])
    operation = plan.operations.get()
    execution = Execution.objects.create(plan=plan, status=Execution.Status.FAILED, sql_hash=plan.sql_hash,
                                         user=dba, error="boom")
    incident = Incident.objects.create(plan=plan, execution=execution, target=target, severity="error",
                                       failure_type="execution_failed", title="Execution failed: boom",
                                       tables_affected=["shop.orders"])
    Alert.objects.create(severity="error", subject="Execution failed", message="boom", incident=incident,
                         execution=execution, status=Alert.Status.SKIPPED)
    env = StagingEnvironment.objects.create(
        staging_id="matrix01", target=target, created_by=dba, database_name="dataflow_stg_matrix01",
        host="127.0.0.1", port=9, db_user="postgres", production_database="postgres",
        status=StagingEnvironment.Status.READY, data_sample_size=0.1, sample_seed=1,
        expires_at=timezone.now() + timedelta(hours=1))
    rehearsal = Rehearsal.objects.create(plan=plan, sql_hash=plan.sql_hash, environment=env, requested_by=dba,
                                         status=Rehearsal.Status.FAILED, error="boom")
    before = BaselineRun.objects.create(target=target, label="before", database_name="postgres",
                                        status=BaselineRun.Status.DONE, query_types=["SELECT"])
    after = BaselineRun.objects.create(target=target, label="after", database_name="postgres",
                                       status=BaselineRun.Status.DONE, query_types=["SELECT"])
    validation = PerformanceValidation.objects.create(before_run=before, after_run=after, validation_status="PASS",
                                                      threshold_multiplier=1.5, report={"comparisons": []})
    from integrations.models import ApiToken

    token, _ = ApiToken.issue(dba, "matrix", ApiToken.Scope.READ)
    from migrations_app.policy_models import ReviewPolicyVersion

    policy_version = ReviewPolicyVersion.objects.create(text="allow_ignores = true\n", document={"allow_ignores": True},
                                                        author=dba)
    users = {"dba": dba, "manager": manager, "engineer": engineer, "outsider": outsider}
    return {"target": target, "plan": plan, "operation": operation, "execution": execution, "incident": incident,
            "env": env, "rehearsal": rehearsal, "run": after, "validation": validation, "users": users,
            "token": token, "policy_version": policy_version}


def _kwargs(route: str, names, world) -> dict:
    by_prefix = {"targets/": "target", "plans/": "plan", "executions/": "execution", "incidents/": "incident",
                 "profile/tokens/": "token", "policy/": "policy_version"}
    values = {"op_id": world["operation"].pk, "direction": "up", "target_id": world["target"].pk,
              "plan_id": world["plan"].pk, "rehearsal_id": world["rehearsal"].pk,
              "staging_id": world["env"].staging_id, "run_id": world["run"].pk,
              "validation_id": world["validation"].pk, "table": "orders", "step": 1,
              "finding_id": 1, "rule_id": "ban-drop-table"}
    kwargs = {}
    for name in names:
        if name == "pk":
            kind = next((k for prefix, k in by_prefix.items() if route.startswith(prefix)), None)
            assert kind, f"no fixture object for <pk> in {route}"
            kwargs[name] = world[kind].pk
        else:
            assert name in values, f"no fixture value for <{name}> in {route}: add one to _kwargs"
            kwargs[name] = values[name]
    return kwargs


def _snapshot() -> dict:
    rows = {}
    for app in WATCHED_APPS:
        for model in apps.get_app_config(app).get_models():
            skip = GET_MAY_WRITE.get((app, model._meta.model_name), set())
            fields = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
            rows[model._meta.label] = list(model.objects.order_by("pk").values_list(*fields))
    return rows


def _expected(role: str, method: str, get_roles: set, post_roles: set) -> int:
    allowed, other = (get_roles, post_roles) if method == "get" else (post_roles, get_roles)
    if role in allowed:
        return 200
    # the method is refused (405) only where the role may use the view at all, the role first (403)
    return 405 if not allowed and role in other else 403


@pytest.mark.parametrize("name,route,params", URLS, ids=[u[0] for u in URLS])
def test_the_url_admits_exactly_its_roles_and_a_get_changes_nothing(name, route, params, world, client_for):
    get_roles, post_roles = ACCESS[name]
    url = reverse(name, kwargs=_kwargs(route, params, world))
    login = reverse("login")
    for method in ("get", "post"):
        response = getattr(client_for(None), method)(url)
        assert response.status_code == 302 and response["Location"].startswith(login), (method, url)
        assert getattr(client_for(world["users"]["outsider"]), method)(url).status_code == 403, (method, url)
    for role in ("engineer", "manager", "dba"):
        client = client_for(world["users"][role])
        # POSTs that a role may not make are refused before any work; allowed POSTs are covered by
        # each app's own tests (they need valid forms).
        if role not in post_roles:
            expected = _expected(role, "post", get_roles, post_roles)
            assert client.post(url).status_code == expected, (role, "POST", url)
        before = _snapshot()
        response = client.get(url)
        expected = _expected(role, "get", get_roles, post_roles)
        assert response.status_code == expected, (role, "GET", url, response.status_code)
        assert _snapshot() == before, f"GET {url} as {role} changed the database"
