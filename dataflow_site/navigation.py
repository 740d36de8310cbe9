"""Navigation for the base layout. Sections whose app has no page yet are shown disabled."""

from django.urls import NoReverseMatch, reverse

SECTIONS = [
    ("Dashboard", "dashboard"),
    ("Inbox", "inbox"),
    ("Plans", "plan_list"),
    ("Staging", "staging_list"),
    ("Baselines", "baseline_list"),
    ("Incidents", "incident_list"),
    ("Alerts", "alert_list"),
    ("Webhooks", "webhook_list"),
    ("Targets", "target_list"),
    ("Audit", "audit_list"),
]


def navigation(request):
    items = []
    path = getattr(request, "path", "")
    for label, url_name in SECTIONS:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            url = None
        active = bool(url) and (path == url if url == "/" else path.startswith(url))
        items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items}
