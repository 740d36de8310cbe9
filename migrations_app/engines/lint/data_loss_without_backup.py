"""data-loss-without-backup: a data-destroying statement while no backup is recorded for the plan."""

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
    yield RULE.finding(stmt, f"{stmt.kind.replace('_', ' ')} on {stmt.table} destroys data and no backup is recorded",
                       safe, severity="error" if ctx.is_production else "warning")
