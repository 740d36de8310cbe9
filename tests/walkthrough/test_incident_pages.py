"""Incident and alert pages show times as dates, never the ISO strings stored in their JSON."""

import re

from migrations_app.models import Alert, Incident

ISO_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def test_incident_notes_timeline_and_alert_attempts_show_readable_times(plan, manager, client_for):
    incident = Incident.objects.create(plan=plan, target=plan.target, severity="error", failure_type="emergency_stop",
                                       title="Emergency stop: Add nickname",
                                       timeline=[{"at": "2026-11-26T06:22:33+00:00", "kind": "execution",
                                                  "text": "started", "actor": "system"}],
                                       notes=[{"at": "2026-11-26T06:22:50+00:00", "author": "manager_carol",
                                               "text": "Stopped on purpose."}])
    Alert.objects.create(severity="error", subject="Emergency stop", message="stopped", incident=incident,
                         attempts=[{"attempt": 1, "at": "2026-11-26T06:22:37+00:00", "results": []}])
    client = client_for(manager)

    for url in (f"/incidents/{incident.pk}/", "/alerts/"):
        html = client.get(url).content.decode()
        assert not ISO_TIMESTAMP.search(html), (url, ISO_TIMESTAMP.search(html))
    assert "2026-11-26 06:22:50" in client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "2026-11-26 06:22:37" in client.get("/alerts/").content.decode()
