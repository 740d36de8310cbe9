"""foreign-key-without-index: the referencing columns of a foreign key have no index."""

from migrations_app.engines.lint.base import Rule, ident

RULE = Rule(
    id="foreign-key-without-index",
    severity="warning",
    needs_catalog=True,
    problem="Without an index on the referencing columns, every DELETE or key UPDATE on the referenced table "
            "scans the whole referencing table (and holds its locks that long).",
    solution="Create an index on the referencing columns, CONCURRENTLY.",
)


@RULE.check
def check(stmt, ctx):
    fk = stmt.details.get("foreign_key")
    if fk and stmt.kind in ("ADD_CONSTRAINT", "ADD_COLUMN"):
        schema = ctx.schema_of(stmt)
        table = ctx.facts.table(schema, stmt.table)
        planned = ctx.memo("planned-indexes", lambda: {(s.table, tuple(s.objects[0].columns)) for s in ctx.statements
                                                       if s.kind == "CREATE_INDEX"})
        covered = any(t == stmt.table and cols[:len(fk["columns"])] == tuple(fk["columns"]) for t, cols in planned)
        existing = [c for c in ctx.facts.columns.get((schema, stmt.table), [])] if table else []
        if not covered and _no_index_in_catalog(ctx, schema, stmt.table, fk["columns"]) and existing is not None:
            cols = ", ".join(ident(c) for c in fk["columns"])
            yield RULE.finding(stmt, f"new foreign key on {stmt.table}({', '.join(fk['columns'])}) has no index",
                               f"CREATE INDEX CONCURRENTLY {ident(stmt.table + '_' + '_'.join(fk['columns']) + '_idx')} "
                               f"ON {ident(schema, stmt.table)} ({cols});")
        return
    if stmt.kind in ("DELETE", "TRUNCATE", "DROP_TABLE") and stmt.table:
        for fk in ctx.facts.fks_referencing(ctx.schema_of(stmt), stmt.table):
            if not fk["has_index"]:
                cols = ", ".join(ident(c) for c in fk["columns"])
                yield RULE.finding(
                    stmt, f"{fk['schema_name']}.{fk['table_name']}({', '.join(fk['columns'])}) references "
                          f"{stmt.table} without an index: each deleted row scans it",
                    f"CREATE INDEX CONCURRENTLY ON {ident(fk['schema_name'], fk['table_name'])} ({cols});",
                    constraint=fk["conname"])


def _no_index_in_catalog(ctx, schema, table, columns) -> bool:
    # An FK being added has no pg_constraint row yet: look for an existing index on the same columns
    # through the FKs already defined (has_index) or assume none when the table has no such FK.
    for fk in ctx.facts.fks_of(schema, table):
        if fk["columns"] == columns and fk["has_index"]:
            return False
    return True
