"""``{% plan_rehearsals plan %}``: the "Rehearse on staging" panel for the plan page (whose
context the plan views own), and small filters for the rehearsal templates."""

from django import template

from migrations_app.engines.rehearsal.lock_projection import format_duration, percent
from migrations_app.engines.rehearsal.lock_sampler import sql_mode
from migrations_app.views.rehearsals import panel_context

register = template.Library()


@register.inclusion_tag("migrations_app/rehearsals/_panel.html", takes_context=True)
def plan_rehearsals(context, plan):
    return panel_context(context["request"], plan)


@register.inclusion_tag("migrations_app/rehearsals/_open_plans.html")
def open_plans_to_rehearse(target):
    """Links from a staging copy to the open plans of its target (a copy made from a plan page's
    "Create one" leads back to the plan that needs the rehearsal)."""
    from migrations_app.models import MigrationPlan, PlanStatus

    plans = [] if target is None else list(
        MigrationPlan.objects.filter(target=target, status__in=[PlanStatus.IN_REVIEW, PlanStatus.APPROVED])
        .order_by("-updated_at")[:10])
    return {"plans": plans, "target": target}


@register.filter
def lock_sql(mode):
    """``AccessExclusiveLock`` -> ``ACCESS EXCLUSIVE``."""
    return sql_mode(mode) or "—"


@register.filter
def duration(ms):
    return "—" if ms is None else format_duration(float(ms))


@register.filter
def as_percent(fraction):
    return "—" if fraction is None else percent(float(fraction))
