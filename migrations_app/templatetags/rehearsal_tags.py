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
