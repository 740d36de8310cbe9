"""What a rollback verified: the schema (digest) and the data (row count and checksum), apart.

The data checks run as steps of the rollback itself, after every restore and before the
backups are dropped, in the restore's transaction: a restored set of rows that differs from
the captured copy aborts that transaction, so the target keeps both the migrated state and
its backups rather than a half-restored mix.

``data_verification["status"]``:
- ``verified``         every backed-up set of rows is back with the captured count and checksum
- ``failed``           a check ran and found different rows (or the restore before it failed)
- ``not_restored``     some data-changing operation had no backup: its changes stay
- ``not_checked``      the rollback stopped before the checks, or a backup has no captured checksum
- ``no_data_changed``  the plan changed no rows: there was no data to restore
"""

from __future__ import annotations

from migrations_app.engines.rollback.plans import RollbackPlan, RollbackStep

DATA_OK = ("verified", "no_data_changed")


def steps_with_data_checks(plan: RollbackPlan) -> tuple[list[RollbackStep], dict[int, object]]:
    """The plan's steps with one check per captured backup inserted before the first
    ``drop_backup`` step; and position -> the backup each check step verifies."""
    restores = [s for s in plan.steps if s.kind != "drop_backup"]
    drops = [s for s in plan.steps if s.kind == "drop_backup"]
    checks: dict[int, object] = {}
    for backup in plan.backups:
        if backup.rows is None or backup.checksum is None or not backup.check_select:
            continue
        checks[len(restores)] = backup
        restores.append(RollbackStep(backup.operation_index, "verify_data", backup.verify_sql(plan.backup_tag),
                                     f"check the restored rows of {backup.source} against the backup"))
    return restores + drops, checks


def data_verification(plan: RollbackPlan, statement_log, checks: dict[int, object]) -> dict:
    last = {}
    for entry in statement_log:
        if entry.phase == "rollback":
            last[entry.operation_index] = entry
    checked = []
    for position, backup in checks.items():
        entry = last.get(position)
        ok = None if entry is None else entry.error is None
        checked.append({"source": backup.source, "operation_index": backup.operation_index, "rows": backup.rows,
                        "checksum": backup.checksum, "ok": ok, "error": entry.error if entry is not None else None})
    uncaptured = [b.source for b in plan.backups if b.rows is None or b.checksum is None]
    unrestored = list(plan.data_unchecked)
    if any(c["ok"] is False for c in checked):
        status = "failed"
    elif unrestored:
        status = "not_restored"
    elif uncaptured or any(c["ok"] is None for c in checked):
        status = "not_checked"
    elif checked:
        status = "verified"
    else:
        status = "no_data_changed"
    return {"status": status, "checked": checked, "unrestored": unrestored, "uncaptured": uncaptured,
            "summary": _summary(status, checked, unrestored, uncaptured)}


def _summary(status: str, checked: list[dict], unrestored: list[dict], uncaptured: list[str]) -> str:
    rows = sum(c["rows"] or 0 for c in checked if c["ok"])
    if status == "verified":
        return (f"data verified: {rows:,} backed-up row(s) in {len(checked)} table(s) restored with the captured "
                "row count and checksum")
    if status == "no_data_changed":
        return "no data to restore: the plan changed no rows"
    if status == "failed":
        bad = next(c for c in checked if c["ok"] is False)
        return f"data NOT verified: {bad['error'] or 'the check failed'}"
    if status == "not_restored":
        ops = "; ".join(f"operation {u['operation_index'] + 1} ({u['type']} {u['table_name']}): "
                        + ", ".join(u["reasons"]) for u in unrestored)
        return f"data NOT restored: {ops}"
    if uncaptured:
        return f"data not checked: no checksum was captured for {', '.join(uncaptured)}"
    return "data not checked: the rollback stopped before its data checks"
