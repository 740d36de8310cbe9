"""What a plan's rollback can restore of the data it changes, said before it runs.

- ``changes_data(plan)``: the operations that change or destroy existing rows (static facts).
- ``backup_preview(plan)``: the rollback plan the executor would build now, read-only against
  the target: what will be backed up (with the estimated size) and what stays irreversible for
  data (no primary key, cascading foreign keys, above ``DATAFLOW_BACKUP_MAX_BYTES``...). The
  analysis stores it (``report["data_backup"]``) so the gate can say so without connecting.
- ``typed_confirmation_required(plan)``: production targets need the target's name typed on
  Execute when the plan changes data.
"""

from __future__ import annotations

from django.conf import settings

from migrations_app.engines.rollback import DATA_CHANGING_KINDS, build_rollback_plan
from migrations_app.plan_sql import plan_operations


def _operations(plan):
    return plan_operations(plan)


def changes_data(plan) -> list[dict]:
    out = []
    for index, op in enumerate(_operations(plan)):
        try:
            fact = op.facts()
        except Exception:  # unparsable SQL changes nothing until it is fixed; the analysis says why
            continue
        if fact.destroys_data or fact.kind in DATA_CHANGING_KINDS:
            out.append({"operation_index": index, "type": op.type, "table_name": op.table_name, "sql": op.sql})
    return out


def typed_confirmation_required(plan) -> bool:
    return plan.target.is_production and bool(changes_data(plan))


def backup_preview(plan, operations=None) -> dict:
    """{"backed_up": [...], "irreversible": [...], "limit": bytes, "error": str}; never raises."""
    limit = settings.DATAFLOW_BACKUP_MAX_BYTES
    out = {"backed_up": [], "irreversible": [], "limit": limit, "error": ""}
    operations = operations if operations is not None else _operations(plan)
    try:
        facts = [op.facts() for op in operations]
        if not any(f.destroys_data or f.kind in DATA_CHANGING_KINDS for f in facts):
            return out
        with plan.target.connection().read_only() as conn:
            rollback = build_rollback_plan(conn, operations, facts, preserve_data=True, backup_max_bytes=limit)
    except Exception as exc:  # the page and the gate say the preview is missing, and why
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    out["backed_up"] = [{"operation_index": b.operation_index, "source": b.source,
                         "estimated_bytes": b.estimated_bytes, "description": b.description} for b in rollback.backups]
    out["irreversible"] = rollback.data_unchecked
    return out


def irreversible_notice(report: dict | None) -> str:
    """The gate's sentence about data the rollback cannot restore, from a stored preview."""
    preview = (report or {}).get("data_backup")
    if not preview:
        return ""
    if preview.get("error"):
        return f"Data backups could not be planned at analysis time: {preview['error']}"
    if not preview.get("irreversible"):
        return ""
    ops = "; ".join(f"operation {u['operation_index'] + 1} ({u['type']} {u['table_name']}): {', '.join(u['reasons'])}"
                    for u in preview["irreversible"])
    return f"Irreversible for data — a rollback cannot restore or check: {ops}"
