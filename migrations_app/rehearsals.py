"""Rehearsals in the app: request one (view), run one (django-q2 task), store the engine's result.

The task takes the rehearsal's id only and moves it QUEUED -> RUNNING by compare-and-set before
any work, so a second delivery does nothing. The plan's operations are read when the task runs
and rehearsed only if they still hash to the ``sql_hash`` that was requested: a rehearsal is
always of one exact version of the SQL.
"""

from __future__ import annotations

import dataclasses
import logging

from django.conf import settings
from django.db import transaction

from baselines_app.measured_runs import record_measured_run, record_measured_validation
from migrations_app.engines.rehearsal.rehearse import rehearse_plan
from migrations_app.models import MigrationPlan, Rehearsal
from migrations_app.permissions import can_rehearse, require
from migrations_app.plan_sql import plan_operations
from migrations_app.workflow import compute_sql_hash, refresh_approval
from staging_app.clones import CloneRefused, close_clone, open_clone
from staging_app.models import StagingClone, StagingEnvironment
from staging_app.registry import config_for
from targets.jobs import enqueue_on_commit
from targets.models import AuditEvent

log = logging.getLogger(__name__)


class RehearsalRefused(Exception):
    """The rehearsal cannot be requested; the message is for the user."""


def ready_environments(plan: MigrationPlan):
    """READY copies of the plan's target that no rehearsal has changed (each rehearsal runs on
    its own clone, so a copy serves any number of them)."""
    return StagingEnvironment.objects.filter(target=plan.target, status=StagingEnvironment.Status.READY) \
        .exclude(rehearsals__in=applied_rehearsals()).order_by("-created_at")


def applied_rehearsals():
    """Rehearsals that changed the copy itself: made before rehearsals ran on clones, they
    left it after the plan or in between. A rehearsal must start from the schema it will meet
    on production, so such a copy is not rehearsed again."""
    return Rehearsal.objects.exclude(digest_after_forward="").exclude(
        pk__in=StagingClone.objects.values("rehearsal_id"))


def request_rehearsal(plan: MigrationPlan, user, environment: StagingEnvironment | None, *,
                      measure_baselines: bool = True) -> Rehearsal:
    require(can_rehearse(user, plan), refused=RehearsalRefused)
    if environment is None:
        raise RehearsalRefused("choose a ready staging copy of the plan's target")
    if environment.target_id != plan.target_id:
        raise RehearsalRefused(f"{environment.database_name} is not a copy of {plan.target.name}")
    with transaction.atomic():
        # Row lock on the environment: two rehearsals on one copy would measure each other's locks.
        env = StagingEnvironment.objects.select_for_update().get(pk=environment.pk)
        if env.status != StagingEnvironment.Status.READY:
            raise RehearsalRefused(f"{env.database_name} is {env.get_status_display().lower()}, not ready")
        busy = env.rehearsals.filter(status__in=[Rehearsal.Status.QUEUED, Rehearsal.Status.RUNNING]).first()
        if busy:
            raise RehearsalRefused(f"{env.database_name} is busy with rehearsal #{busy.pk}; wait for it to finish")
        applied = applied_rehearsals().filter(environment=env).first()
        if applied:
            raise RehearsalRefused(f"{env.database_name} was changed by rehearsal #{applied.pk} "
                                   f"({applied.plan.title}); rehearse on a fresh copy")
        rehearsal = Rehearsal.objects.create(plan=plan, sql_hash=plan.sql_hash, environment=env, requested_by=user,
                                             measure_baselines=measure_baselines,
                                             sample_fraction=env.data_sample_size,
                                             progress={"phase": "queued", "step": 0, "steps": 6})
        AuditEvent.record(user, "plan.rehearsal_requested", plan,
                          data={"rehearsal": rehearsal.pk, "staging_id": env.staging_id, "sql_hash": plan.sql_hash,
                                "baselines": measure_baselines})
        enqueue_on_commit("migrations_app.tasks.rehearse_plan", rehearsal.pk, name="rehearsal", group="rehearsal")
    return rehearsal


def run_rehearsal(rehearsal_id: int) -> str:
    rehearsal = Rehearsal.objects.select_related("plan__target", "environment__target").get(pk=rehearsal_id)
    if not rehearsal.claim(progress={"phase": "starting", "step": 0, "steps": 6}):
        return "already taken"
    plan, env = rehearsal.plan, rehearsal.environment
    if compute_sql_hash(list(plan.operations.all())) != rehearsal.sql_hash:
        return _fail(rehearsal, "the plan's SQL changed after the rehearsal was requested; rehearse the new version")
    try:
        clone, staging = open_clone(env, rehearsal.pk)
    except CloneRefused as exc:
        return _fail(rehearsal, str(exc))
    try:
        return _rehearse_on(rehearsal, plan, env, staging, clone)
    finally:
        try:
            close_clone(clone)
        except Exception:  # left for the sweeper, which knows the clone from its registry row
            log.exception("rehearsal %s: could not drop its clone %s", rehearsal_id, clone.database_name)


def _rehearse_on(rehearsal: Rehearsal, plan: MigrationPlan, env: StagingEnvironment, staging, clone) -> str:
    config = config_for(env.target)
    if rehearsal.measure_baselines and not config.performance_baselines_enabled:
        # The preset turns off automatic measurement; a DBA who asks for baselines gets them.
        config = dataclasses.replace(config, performance_baselines_enabled=True)

    def progress(state: dict) -> None:
        rehearsal.set_progress(state)

    try:
        result = rehearse_plan(staging, plan_operations(plan), plan.schema,
                               sample_fraction=env.data_sample_size, table_fractions=table_fractions(env),
                               measure_baselines=rehearsal.measure_baselines, config=config, progress=progress,
                               backup_max_bytes=settings.DATAFLOW_BACKUP_MAX_BYTES)
    except Exception as exc:  # the engine reports step failures itself; this is a bug or a lost worker
        log.exception("rehearsal %s crashed", rehearsal.pk)
        return _fail(rehearsal, f"{type(exc).__name__}: {exc}")
    _store(rehearsal, result)
    AuditEvent.record(rehearsal.requested_by, f"plan.rehearsal_{result.status.lower()}", plan,
                      data={"rehearsal": rehearsal.pk, "staging_id": env.staging_id, "sql_hash": rehearsal.sql_hash,
                            "rollback_verified": result.rollback_verified,
                            "rollback_schema_verified": result.rollback_schema_verified,
                            "rollback_data": result.rollback_data_status, "validation": result.validation_status,
                            "projected_lock_ms": rehearsal.projected_lock_ms, "error": (result.error or "")[:500],
                            "clone": clone.database_name, "clone_seconds": round(clone.clone_seconds or 0, 3)})
    if result.passed:
        refresh_approval(plan, None)
    return result.status.lower()


def table_fractions(env: StagingEnvironment) -> dict[str, float]:
    """staging rows / production rows per table, from the replication result (parents included)."""
    result = env.replication_result or {}
    estimates = result.get("source_rows_estimate") or {}
    out = {}
    for table, rows in (result.get("rows_sampled") or {}).items():
        estimate = estimates.get(table)
        if estimate and estimate > 0 and rows:
            out[table] = min(1.0, rows / estimate)
    return out


def _store(rehearsal: Rehearsal, result) -> None:
    data = result.to_dict()
    projection = data["projection"] or {}
    with transaction.atomic():  # the baseline runs exist exactly when the rehearsal is finished
        _finish(rehearsal, result, data, projection)
    rehearsal.refresh_from_db()


def _finish(rehearsal: Rehearsal, result, data: dict, projection: dict) -> None:
    rehearsal.finish(
        result.status, error=result.error or "", statements=data["statements"], forward_result=data["forward"],
        rollback_result=data["rollback"], reapply_result=data["reapply"],
        baselines_before=data["baselines_before"], baselines_after=data["baselines_after"],
        validation=data["validation"], validation_status=result.validation_status or "",
        baseline_error=result.baseline_error or "", digest_before=result.digest_before or "",
        digest_after_forward=result.digest_after_forward or "", digest_after_rollback=result.digest_after_rollback or "",
        digest_after_reapply=result.digest_after_reapply or "", rollback_verified=result.rollback_verified,
        rollback_schema_verified=result.rollback_schema_verified, rollback_data_status=result.rollback_data_status,
        rollback_data_summary=result.rollback_data_summary,
        digest_differences=result.digest_differences, projection=projection or None,
        projected_lock_ms=projection.get("projected_ms"), warnings=result.warnings,
        progress={"phase": "done", "step": 6, "steps": 6}, **_baseline_runs(rehearsal, data))


def _baseline_runs(rehearsal: Rehearsal, data: dict) -> dict:
    """The rehearsal's baselines as baseline runs on its copy, named after it, with their validation."""
    if not data["baselines_before"]:
        return {}
    plan, env = rehearsal.plan, rehearsal.environment
    name = f"rehearsal #{rehearsal.pk} of {plan.title[:50]}"
    before = record_measured_run(env, label=f"{name}: before the plan", schema=plan.schema, plan=plan,
                                 measured=data["baselines_before"], started_at=rehearsal.started_at)
    runs = {"baseline_run_before": before}
    if data["baselines_after"]:
        runs["baseline_run_after"] = after = record_measured_run(
            env, label=f"{name}: after the plan", schema=plan.schema, plan=plan,
            measured=data["baselines_after"], started_at=rehearsal.started_at, replay_of=before)
        if data["validation"]:
            record_measured_validation(before, after, data["validation"], plan=plan)
    return runs


def _fail(rehearsal: Rehearsal, error: str) -> str:
    rehearsal.finish(Rehearsal.Status.FAILED, error=error, progress={"phase": "done", "step": 6, "steps": 6})
    AuditEvent.record(None, "plan.rehearsal_failed", rehearsal.plan,
                      data={"rehearsal": rehearsal.pk, "sql_hash": rehearsal.sql_hash, "error": error[:500]})
    return "failed"
