"""data-loss-without-backup: a data-destroying statement while no backup is recorded for the plan.

When the analysis knows what Execute… backs up itself (``LintContext.data_backup``, the executor's
rollback plan built read-only at analysis time), the message says that instead: the rows it copies
before they change, what stays not restorable and why. The severity stays: the preview is read
before the run, and data it does not cover is not backed up."""

from migrations_app.engines.lint.base import Rule, ident

RULE = Rule(
    id="data-loss-without-backup",
    severity="error",
    problem="The statement destroys data, and no verified backup is recorded: a mistake cannot be undone.",
    solution="Take and verify a backup first, or copy the affected data into the dataflow_backup schema in "
             "the same plan so the rollback can restore it.",
)


@RULE.check
def check(stmt, ctx):
    if not stmt.destroys_data or ctx.has_backup or ctx.is_new_table(stmt) or not stmt.table:
        return
    if stmt.kind in ("UPDATE", "DELETE") and stmt.details.get("has_where") and not ctx.is_production:
        return
    src = ident(stmt.schema, stmt.table)
    safe = (f"CREATE SCHEMA IF NOT EXISTS dataflow_backup;\n"
            f"CREATE TABLE {ident('dataflow_backup', stmt.table)} AS TABLE {src};")
    what = f"{stmt.kind.replace('_', ' ')} on {stmt.table} destroys data"
    message, evidence = executor_backup_message(stmt, ctx, what)
    yield RULE.finding(stmt, message, safe, severity="error" if ctx.is_production else "warning", **evidence)


def executor_backup_message(stmt, ctx, what: str) -> tuple[str, dict]:
    """The finding's message and evidence from what Execute… will back up of this statement's operation."""
    preview = ctx.data_backup
    if not preview or stmt.index >= len(ctx.operation_of):
        return f"{what} and no backup is recorded", {}
    if preview.get("error"):
        return (f"{what} and no backup is recorded; whether Execute… can back the rows up itself is not known "
                f"(the backup could not be planned: {preview['error']})", {"executor_backup": "unknown"})
    op = ctx.operation_of[stmt.index]
    saved = [b for b in preview.get("backed_up") or [] if b.get("operation_index") == op]
    missing = [r for u in preview.get("irreversible") or [] if u.get("operation_index") == op
               for r in u.get("reasons") or []]
    if not saved and not missing:
        return f"{what} and no backup is recorded", {}
    if not saved:
        return (f"{what} and no backup is recorded; Execute… cannot back it up itself: " + "; ".join(missing),
                {"executor_backup": "none"})
    copies = ", ".join(_describe(b) for b in saved)
    message = (f"{what}; Execute… backs up the rows itself, in the migration's transaction, before they change "
               f"({copies}), and a rollback restores them")
    if missing:
        return message + "; still not restorable: " + "; ".join(missing), {"executor_backup": "partial"}
    return message, {"executor_backup": "all"}


def _describe(backup: dict) -> str:
    text = (backup.get("description") or backup.get("source") or "").removeprefix("save ")
    size = backup.get("estimated_bytes")
    return f"{text}, about {_bytes(size)}" if size is not None else text


def _bytes(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
