"""``{% execution_actions plan %}``: Execute / Roll back / Emergency stop and the live status of
the latest execution, for the plan page (whose context the plan views own)."""

from django import template
from django.template.loader import render_to_string

from migrations_app.execution_panels import panel_context, plan_status_context

register = template.Library()


@register.inclusion_tag("migrations_app/execution/_plan_status.html", takes_context=True)
def execution_actions(context, plan):
    request = context.get("request")
    return plan_status_context(request.user if request is not None else None, plan)


@register.simple_tag(takes_context=True)
def execution_panel(context, plan):
    """The latest execution's live panel (statement log, lock holder, digests) on the plan page;
    it polls while the run is active, like the execution page itself."""
    execution = plan.executions.select_related("stop_requested_by").first()
    request = context.get("request")
    if execution is None or request is None:
        return ""
    return render_to_string("migrations_app/execution/_plan_panel.html", panel_context(request, execution),
                            request=request)
