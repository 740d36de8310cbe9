"""django-q2 tasks: thin wrappers over the engine, taking ids, safe to deliver twice.

``replicate_staging_environment`` moves a row CREATING -> REPLICATING by compare-and-set
before any work, so a second delivery finds it REPLICATING and does nothing.
``sweep_staging_environments`` runs every 15 minutes (schedule created by migration
0002_sweeper_schedule).
"""

from __future__ import annotations

import logging

from django.utils import timezone

from staging_app.engines.staging_environment_manager import StagingEnvironmentError
from staging_app.models import StagingEnvironment, StagingOrphan
from staging_app.registry import config_for, manager_for
from targets.models import AuditEvent, TargetDatabase

log = logging.getLogger(__name__)


def replicate_staging_environment(staging_id: str, include_data: bool = True) -> dict:
    row = StagingEnvironment.objects.select_related("target").get(staging_id=staging_id)
    if row.status != StagingEnvironment.Status.CREATING:
        return {"staging_id": staging_id, "skipped": f"status is {row.status}"}
    manager = manager_for(row.target)
    try:
        result = manager.replicate_production_schema(staging_id, include_data=include_data)
    except StagingEnvironmentError as exc:
        # The engine has already marked the row ERROR and dropped the copy.
        AuditEvent.record(None, "staging.replication_failed", row, data={"error": str(exc)})
        return {"staging_id": staging_id, "error": str(exc)}
    AuditEvent.record(None, "staging.ready", row, data={"rows": result.total_rows_sampled,
                                                         "bytes": result.bytes_copied,
                                                         "seconds": round(result.duration_seconds, 3)})
    return {"staging_id": staging_id, "status": "READY", "rows": result.total_rows_sampled}


def sweep_staging_environments(in_flight_grace_seconds: int = 300) -> dict:
    """Drop expired copies, clean up copies whose worker died, record orphans."""
    servers = {}
    for target in TargetDatabase.objects.all():
        source = target.connection()
        server = source.with_options(host=target.staging_host or target.host,
                                     port=target.staging_port or target.port, dbname="postgres")
        servers.setdefault((server.host, server.port), server)
    # Expiry was fixed at creation from the preset of the environment's target; the manager's own
    # config only matters for the cleanup timeout, so the strict (production) preset is used.
    manager = manager_for(config=config_for(_any_production_target()))
    report = manager.sweep_staging_environments(servers.values(), in_flight_grace_seconds=in_flight_grace_seconds)
    now = timezone.now()
    for orphan in report["orphans"]:
        record, created = StagingOrphan.objects.get_or_create(
            host=orphan["host"], port=orphan["port"], database_name=orphan["database"],
            defaults={"marker": orphan["marker"] or "", "first_seen_at": now, "last_seen_at": now})
        if not created:
            record.last_seen_at = now
            record.resolved_at = None
            record.save(update_fields=["last_seen_at", "resolved_at"])
    seen = {(o["host"], o["port"], o["database"]) for o in report["orphans"]}
    scanned = set(servers)
    for record in StagingOrphan.objects.filter(resolved_at__isnull=True):
        if (record.host, record.port) in scanned and (record.host, record.port, record.database_name) not in seen:
            record.resolved_at = now
            record.save(update_fields=["resolved_at"])
    if report["expired"] or report["abandoned"] or report["orphans"] or report["errors"]:
        AuditEvent.record(None, "staging.swept", object_type="stagingenvironment", data=report)
        log.info("staging sweep: %s expired, %s abandoned, %s orphans, %s errors", len(report["expired"]),
                 len(report["abandoned"]), len(report["orphans"]), len(report["errors"]))
    return report


def _any_production_target():
    return TargetDatabase.objects.filter(environment=TargetDatabase.Environment.PRODUCTION).first()
