"""django-q2 tasks of the targets layer: they take ids, never objects or secrets."""

from targets.engines.health import DatabaseHealthCheck
from targets.models import TargetDatabase


def refresh_target_health(target_id: int) -> dict:
    target = TargetDatabase.objects.get(pk=target_id)
    report = DatabaseHealthCheck(target.connection()).run()
    target.record_health(report.to_dict())
    return {"target": target_id, "ok": report.ok}
