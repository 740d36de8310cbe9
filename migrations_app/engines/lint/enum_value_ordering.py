"""enum-value-ordering: ADD VALUE BEFORE/AFTER changes the sort order; before PostgreSQL 12 ADD VALUE
cannot run in a transaction block, and since 12 the new value cannot be used in the same transaction."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="enum-value-ordering",
    severity="warning",
    kinds=frozenset({"ADD_ENUM_VALUE"}),  # the check's first test: no finding for any other kind
    problem="A value added BEFORE/AFTER an existing one changes ORDER BY results and range comparisons on the "
            "enum, and gets an out-of-order OID that makes comparisons slower; ALTER TYPE ... ADD VALUE cannot "
            "run in a transaction block before PostgreSQL 12 and its value is unusable until commit after that.",
    solution="Append new values at the end, and add them in their own transaction before statements use them.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "ADD_ENUM_VALUE":
        return
    if stmt.details.get("neighbor"):
        where = "after" if stmt.details.get("after") else "before"
        yield RULE.finding(stmt, f"value {stmt.details['new_value']!r} inserted {where} "
                                 f"{stmt.details['neighbor']!r} changes the order of {stmt.table}",
                           f"ALTER TYPE {stmt.table} ADD VALUE '{stmt.details['new_value']}';")
    value = str(stmt.details.get("new_value"))
    if not ctx.in_transaction[stmt.index]:
        return
    used_later = any(value in s.sql for s in ctx.statements[stmt.index + 1:] if ctx.in_transaction[s.index])
    if not stmt.transactional or used_later:
        yield RULE.finding(stmt, f"enum value {value!r} is added inside a transaction block"
                           + (" and used before commit" if used_later else ""), f"COMMIT;\n{stmt.sql};\nBEGIN;")
