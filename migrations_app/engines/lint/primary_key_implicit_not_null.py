"""primary-key-implicit-not-null (Atlas PG304): a primary key sets NOT NULL on its columns, which scans the table."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="primary-key-implicit-not-null",
    severity="warning",
    problem="ADD PRIMARY KEY (even USING INDEX, with the index built concurrently) marks its columns NOT NULL; "
            "for a column that allows NULL that is a full scan of the table under ACCESS EXCLUSIVE.",
    solution="Make the columns NOT NULL first without the long lock: ADD CONSTRAINT c CHECK (col IS NOT NULL) "
             "NOT VALID; VALIDATE CONSTRAINT c; ALTER COLUMN col SET NOT NULL (PostgreSQL 12+ skips the scan); "
             "then add the key USING INDEX.",
)


def _set_not_null_earlier(stmt, ctx) -> set[str]:
    return {s.column for s in ctx.statements[:stmt.index]
            if s.table == stmt.table and "AT_SetNotNull" in s.subcommands and s.column}


def _index_columns(stmt, ctx) -> list[str] | None:
    name = stmt.details.get("using_index")
    for earlier in ctx.statements[:stmt.index]:
        if earlier.kind == "CREATE_INDEX" and earlier.details.get("index") == name and earlier.objects:
            return earlier.objects[0].columns
    return None


@RULE.check
def check(stmt, ctx):
    if stmt.details.get("constraint_type") != "CONSTR_PRIMARY" or ctx.is_new_table(stmt):
        return
    columns = (_index_columns(stmt, ctx) if stmt.details.get("using_index") else
               (stmt.objects[0].columns if stmt.objects else None))
    if columns is not None:
        known = _set_not_null_earlier(stmt, ctx)
        if ctx.facts is not None:
            known |= {c for c in columns if (ctx.facts.column(ctx.schema_of(stmt), stmt.table, c) or {}).get("attnotnull")}
        columns = [c for c in columns if c not in known]
        if not columns:
            return
    what = ", ".join(columns) if columns else "the index's columns"
    yield RULE.finding(stmt, f"PRIMARY KEY on {stmt.table} sets NOT NULL on {what}: a full scan unless they are "
                             "already NOT NULL")
