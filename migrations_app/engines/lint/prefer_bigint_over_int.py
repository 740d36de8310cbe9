"""prefer-bigint-over-int: 32-bit integer keys run out, and widening them later rewrites the table."""

from migrations_app.engines.lint.base import Rule, declared_types

RULE = Rule(
    id="prefer-bigint-over-int",
    severity="info",
    problem="integer and smallint columns overflow (2,147,483,647 / 32,767); changing them to bigint later "
            "rewrites the table and every index under ACCESS EXCLUSIVE.",
    solution="Use bigint for identifiers and counters from the start.",
)


@RULE.check
def check(stmt, ctx):
    for column, t in declared_types(stmt):
        if t["name"] in ("int4", "int2", "integer", "smallint", "int", "serial", "serial4", "smallserial", "serial2"):
            yield RULE.finding(stmt, f"{stmt.table}.{column} is {t['sql']}", f"-- {column} bigint")
