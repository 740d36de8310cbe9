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


_HASH_KEYS = {"sql_hash", "schema_digest", "digest_before", "digest_after"}


def _plain(value, limit=160) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v, limit) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {_plain(v, limit)}" for k, v in value.items()) or "none"
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.filter
def audit_fields(data):
    """An audit event's data as (label, value) pairs for people: a status change as "A → B",
    hashes shortened, lists joined, never a Python or JSON repr of the whole dict."""
    if not isinstance(data, dict):
        return [] if data in (None, "", {}) else [("", _plain(data))]
    fields = []
    if "from" in data and "to" in data:
        fields.append(("status", f"{data['from']} → {data['to']}" if data["from"] != data["to"] else str(data["to"])))
    for key, value in data.items():
        if key in ("from", "to") and "from" in data and "to" in data:
            continue
        if value is None or value == "":  # an empty field says nothing ("error ·")
            continue
        if key in _HASH_KEYS and isinstance(value, str):
            value = value[:12]
        fields.append((key.replace("_", " "), _plain(value)))
    return fields
