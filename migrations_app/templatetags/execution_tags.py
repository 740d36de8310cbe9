"""``{% execution_actions plan %}``: Execute / Roll back / Emergency stop and the live status of
the latest execution, for the plan page (whose context the plan views own)."""

from django import template

from dataflow_site.roles import DBA, MANAGER, user_roles

register = template.Library()


@register.inclusion_tag("migrations_app/execution/_plan_status.html", takes_context=True)
def execution_actions(context, plan):
    request = context.get("request")
    roles = user_roles(request.user) if request is not None else set()
    execution = plan.executions.select_related("stop_requested_by").first()
    return {
        "plan": plan,
        "execution": execution,
        "can_execute": DBA in roles and plan.status == "APPROVED" and not (execution and execution.is_active),
        "can_rollback": DBA in roles and plan.status == "SUCCEEDED" and execution is not None
        and execution.kind == "migration" and execution.status == "SUCCEEDED",
        "can_stop": bool(roles & {DBA, MANAGER}) and execution is not None and execution.is_active,
    }
