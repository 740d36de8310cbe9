"""Small display filters shared by pages that show engine reports stored as JSON."""

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def as_datetime(value):
    """An ISO 8601 string from a stored report as a datetime in the display time zone, so it is
    rendered like every other time on the page (not as "2026-11-26T06:14:22.963819+00:00")."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except (TypeError, ValueError):
            return value
    return timezone.localtime(parsed) if timezone.is_aware(parsed) else parsed
