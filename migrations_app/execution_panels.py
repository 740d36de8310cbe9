"""What the execution panels show: the plan page's status header and the live execution panel.
Views and template tags both render them, so neither imports the other."""

from migrations_app import permissions


def plan_status_context(user, plan) -> dict:
    execution = plan.executions.select_related("stop_requested_by").first()
    return {
        "plan": plan,
        "execution": execution,
        "can_execute": permissions.can_execute(user, plan),
        "can_rollback": execution is not None and permissions.can_roll_back(user, execution),
        "can_stop": execution is not None and permissions.can_emergency_stop(user, execution),
    }


def panel_context(request, execution) -> dict:
    user = request.user
    log = execution.statement_log or []
    total = execution.progress.get("total") or 0
    return {"execution": execution, "plan": execution.plan, "log": log, "total": total,
            "incidents": execution.incidents.all(), "rollbacks": execution.rollbacks.all(),
            "can_stop": permissions.can_emergency_stop(user, execution),
            "can_rollback": permissions.can_roll_back(user, execution),
            "can_recover": permissions.can_resume(user, execution)}
