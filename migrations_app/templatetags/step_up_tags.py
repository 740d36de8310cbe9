"""``{% step_up_field "execute" plan %}``: the authenticator-code field of a form whose action
needs a fresh step-up (or the way to enrol). Whether it does is the permission policy's answer."""

from django import template

from dataflow_site import step_up
from migrations_app import permissions

register = template.Library()


@register.inclusion_tag("_step_up_field.html", takes_context=True)
def step_up_field(context, action, obj, decision=None):
    request = context.get("request")
    user = request.user if request is not None else None
    needed = user is not None and permissions.needs_step_up(user, action, obj, decision)
    return {"needed": needed, "enrolled": needed and step_up.is_enrolled(user), "field": step_up.CODE_FIELD,
            "fresh": needed and bool(permissions.can_pass_step_up(user, action, obj, decision))}
