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


@register.simple_tag(takes_context=True)
def execution_panel(context, plan):
    """The latest execution's live panel (statement log, lock holder, digests) on the plan page;
    it polls while the run is active, like the execution page itself."""
    from django.template.loader import render_to_string

    from migrations_app.views.execution import panel_context

    execution = plan.executions.select_related("stop_requested_by").first()
    request = context.get("request")
    if execution is None or request is None:
        return ""
    return render_to_string("migrations_app/execution/_plan_panel.html", panel_context(request, execution),
                            request=request)
