"""adding-unique-index (Atlas MF101, MF102): a unique index on existing rows depends on the data."""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="adding-unique-index",
    severity="warning",
    problem="A unique index (or UNIQUE / PRIMARY KEY constraint) built on a table that already has rows fails "
            "when two rows share a key. With CONCURRENTLY the failure leaves an INVALID index behind that still "
            "slows every write until it is dropped. Whether it succeeds depends on the data, not on the SQL.",
    solution="Look for duplicates first (SELECT cols, count(*) FROM t GROUP BY cols HAVING count(*) > 1), fix "
             "them, and clean up after a failed concurrent build (DROP INDEX CONCURRENTLY IF EXISTS ...).",
)

MADE_UNIQUE = Rule(
    id="index-made-unique",
    severity="warning",
    problem="An index replaced by a unique one on the same columns turns a lookup aid into a rule the existing "
            "data must already satisfy; writes that used to succeed start failing with unique violations.",
    solution="Check for duplicates and for code that writes them before the change; keep the old index until "
             "the unique one is built and valid.",
)


def _duplicates_query(stmt, columns: list[str]) -> str:
    cols = ", ".join(ident(c) for c in columns) or "<columns>"
    return f"SELECT {cols}, count(*) FROM {table_ref(stmt)} GROUP BY {cols} HAVING count(*) > 1 LIMIT 10;"


def _unique_build(stmt) -> bool:
    if stmt.kind == "CREATE_INDEX":
        return bool(stmt.details.get("unique"))
    return (stmt.kind == "ADD_CONSTRAINT" and stmt.details.get("constraint_type") in ("CONSTR_UNIQUE", "CONSTR_PRIMARY")
            and not stmt.details.get("using_index"))


@RULE.check
def check(stmt, ctx):
    if not _unique_build(stmt) or ctx.is_new_table(stmt):
        return
    columns = stmt.objects[0].columns if stmt.objects else []
    how = " CONCURRENTLY" if stmt.details.get("concurrently") else ""
    yield RULE.finding(stmt, f"unique index{how} on existing rows of {stmt.table} "
                             f"({', '.join(columns) or '?'}) fails on duplicates", _duplicates_query(stmt, columns))


@MADE_UNIQUE.check
def check_made_unique(stmt, ctx):
    if stmt.kind != "CREATE_INDEX" or not stmt.details.get("unique") or ctx.is_new_table(stmt):
        return
    columns = stmt.objects[0].columns if stmt.objects else []
    name = stmt.details.get("index")
    for earlier in ctx.statements[:stmt.index]:
        same_name = earlier.kind == "DROP_INDEX" and name and any(o.table == name for o in earlier.objects)
        same_columns = (earlier.kind == "CREATE_INDEX" and not earlier.details.get("unique")
                        and earlier.table == stmt.table and earlier.objects and earlier.objects[0].columns == columns)
        if same_name or same_columns:
            yield MADE_UNIQUE.finding(stmt, f"index {name or 'on ' + ', '.join(columns)} of {stmt.table} "
                                            f"becomes unique", _duplicates_query(stmt, columns))
            return


RULES = [RULE, MADE_UNIQUE]
