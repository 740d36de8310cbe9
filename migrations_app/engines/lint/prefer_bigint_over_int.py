"""prefer-bigint-over-int and prefer-bigint-over-smallint: 32- and 16-bit keys run out, and widening them
later rewrites the table."""

from migrations_app.engines.lint.base import Rule, declared_types

RULE = Rule(
    id="prefer-bigint-over-int",
    severity="info",
    problem="integer columns overflow at 2,147,483,647; changing them to bigint later "
            "rewrites the table and every index under ACCESS EXCLUSIVE.",
    solution="Use bigint for identifiers and counters from the start.",
)


@RULE.check
def check(stmt, ctx):
    for column, t in declared_types(stmt):
        if t["name"] in ("int4", "integer", "int", "serial", "serial4"):
            yield RULE.finding(stmt, f"{stmt.table}.{column} is {t['sql']}", f"-- {column} bigint")


SMALLINT = Rule(
    id="prefer-bigint-over-smallint",
    severity="info",
    problem="smallint columns overflow at 32,767; changing them to bigint later rewrites the table and every "
            "index under ACCESS EXCLUSIVE.",
    solution="Use bigint (or integer where the range is truly bounded and small).",
)


@SMALLINT.check
def check_smallint(stmt, ctx):
    for column, t in declared_types(stmt):
        if t["name"] in ("int2", "smallint", "smallserial", "serial2"):
            yield SMALLINT.finding(stmt, f"{stmt.table}.{column} is {t['sql']}", f"-- {column} bigint")


RULES = [RULE, SMALLINT]
