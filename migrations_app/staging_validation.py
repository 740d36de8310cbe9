"""What the sign-off gate's "staging validation" means (``migrations_app.gate.staging_validation``).

HIGH (``full=False``): a PASSED rehearsal of this exact ``sql_hash`` on a staging copy of the
plan's target: the plan applied, its rollback brought the schema digest back to the
pre-rehearsal one, and it applied again.
CRITICAL (``full=True``): the same rehearsal whose rollback is verified for the data too (every
row the plan changed restored with its backup's count and checksum, or no row changed), with
baselines measured before and after the plan on the copy and a validation status of PASS (no
degradation): the full staging test.
"""

from __future__ import annotations

from migrations_app.engines.rehearsal.lock_projection import percent
from migrations_app.models import Rehearsal


def _column_order_of(rehearsal) -> str:
    """" but for the column order of public.customers" when only that differed (a DROP COLUMN's
    rollback re-adds the column last); the rehearsal's warning says it in full."""
    for warning in rehearsal.warnings or []:
        if warning.startswith("schema verified except the column order of "):
            return " but for the column order of " + warning.split("column order of ", 1)[1].split(":", 1)[0]
    return ""


def passed_validation(plan, *, full: bool) -> tuple[bool, str]:
    """(met, detail): which rehearsal satisfies the requirement, or what is missing."""
    of_this_sql = Rehearsal.objects.filter(plan=plan, sql_hash=plan.sql_hash, environment__target=plan.target) \
        .select_related("environment").order_by("-finished_at", "-id")
    passed = of_this_sql.filter(status=Rehearsal.Status.PASSED, rollback_schema_verified=True)
    satisfying = passed.filter(validation_status="PASS", rollback_verified=True) if full else passed
    found = satisfying.first()
    if found is not None:
        detail = (f"rehearsal #{found.pk} on {found.environment.database_name} "
                  f"({percent(found.sample_fraction or 1)} sample) passed: rollback schema verified by the digest"
                  + _column_order_of(found))
        data = found.rollback_data_summary or "data not checked"
        return True, detail + (f", {data}, baselines PASS" if full else f"; {data}")
    if full and passed.exclude(rollback_verified=True).exists() and not passed.filter(rollback_verified=True).exists():
        latest = passed.first()
        return False, (f"rehearsal #{latest.pk} passed, but its rollback is not verified for data "
                       f"({latest.rollback_data_summary or 'data not checked'})")
    if full and passed.exists():
        latest = passed.filter(rollback_verified=True).first()
        status = latest.validation_status or ("not measured" if not latest.measure_baselines else "not available")
        return False, (f"rehearsal #{latest.pk} passed but its baselines are {status}: "
                       "rehearse again with baselines and no degradation")
    active = of_this_sql.filter(status__in=[Rehearsal.Status.QUEUED, Rehearsal.Status.RUNNING]).first()
    if active is not None:
        return False, f"rehearsal #{active.pk} of this SQL is {active.get_status_display().lower()}"
    failed = of_this_sql.filter(status=Rehearsal.Status.FAILED).first()
    if failed is not None:
        return False, f"rehearsal #{failed.pk} of this SQL failed: {failed.error[:200]}"
    if Rehearsal.objects.filter(plan=plan, status=Rehearsal.Status.PASSED).exists():
        return False, "earlier rehearsals were of a different version of the SQL: rehearse this one"
    what = "rehearse it with baselines" if full else "rehearse it"
    return False, f"no rehearsal of this SQL yet: {what} on a staging copy of {plan.target.name}"


def latest_failed_rehearsal(plan) -> Rehearsal | None:
    """The latest finished rehearsal of this exact SQL when it failed (a later pass clears it)."""
    latest = (Rehearsal.objects.filter(plan=plan, sql_hash=plan.sql_hash,
                                       status__in=[Rehearsal.Status.PASSED, Rehearsal.Status.FAILED])
              .order_by("-finished_at", "-id").first())
    return latest if latest is not None and latest.status == Rehearsal.Status.FAILED else None


def rehearsal_state(plan) -> tuple[str, Rehearsal | None]:
    """The queue's words for the latest rehearsal of this exact SQL: "passed", "failed",
    "queued", "running" or "not rehearsed" (earlier SQL versions do not count)."""
    latest = Rehearsal.objects.filter(plan=plan, sql_hash=plan.sql_hash).order_by("-queued_at", "-id").first()
    if latest is None:
        return "not rehearsed", None
    return latest.get_status_display().lower(), latest
