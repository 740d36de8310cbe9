"""A rehearsal's own database: cloned from a READY copy before the rehearsal, dropped after.

``open_clone`` writes the registry row (``StagingClone``) before the database exists, so a
worker that dies between the two leaves a row the sweeper and the guard know; ``close_clone``
drops the database only through the guard (name, marker) and only while that row says it exists.
"""

from __future__ import annotations

from django.db import IntegrityError
from django.utils import timezone

from staging_app.engines.clones import CloneRefused, create_clone
from staging_app.engines.guard import clone_name_for, drop_clone_database
from staging_app.models import StagingClone, StagingEnvironment
from staging_app.registry import DjangoStagingRegistry


def open_clone(environment: StagingEnvironment, rehearsal_id: int):
    """(clone row, TargetConnection to the clone). Raises ``CloneRefused`` with a message to show."""
    found = DjangoStagingRegistry().connections(environment.staging_id)
    if environment.status != StagingEnvironment.Status.READY or not found:
        raise CloneRefused(f"{environment.database_name} is {environment.get_status_display().lower()}: "
                           "no copy to clone")
    _source, server = found
    try:
        row = StagingClone.objects.create(environment=environment, rehearsal_id=rehearsal_id,
                                          database_name=clone_name_for(environment.staging_id, rehearsal_id))
    except IntegrityError:
        raise CloneRefused(f"rehearsal #{rehearsal_id} already has a clone") from None
    try:
        _name, seconds = create_clone(server, environment.database_name, environment.staging_id, rehearsal_id)
    except Exception as exc:
        row.error, row.dropped_at = str(exc)[:2000], timezone.now()  # nothing was created
        row.save(update_fields=["error", "dropped_at"])
        raise
    row.clone_seconds = seconds
    row.save(update_fields=["clone_seconds"])
    return row, server.for_database(row.database_name)


def close_clone(row: StagingClone) -> str:
    """Drop the clone (guard: name and marker; here: the registry row). "dropped" or "absent"."""
    row.refresh_from_db()
    if row.dropped_at is not None:
        return "absent"
    found = DjangoStagingRegistry().connections(row.environment.staging_id)
    if not found:
        raise CloneRefused(f"the staging environment of {row.database_name} has no target to connect with")
    _source, server = found
    state = drop_clone_database(server, row.database_name, row.environment.staging_id, row.rehearsal_id)
    row.dropped_at = timezone.now()
    row.save(update_fields=["dropped_at"])
    return state
