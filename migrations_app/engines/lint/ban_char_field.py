"""ban-char-field: char(n) pads with spaces and is never faster than text."""

from migrations_app.engines.lint.base import Rule, declared_types

RULE = Rule(
    id="ban-char-field",
    severity="warning",
    problem="char(n) stores and compares blank-padded strings, surprises in comparisons and joins, and is "
            "no faster than text or varchar in PostgreSQL.",
    solution="Use text (with a CHECK on length if a limit is a business rule).",
)


@RULE.check
def check(stmt, ctx):
    for column, t in declared_types(stmt):
        if t["name"] in ("bpchar", "char", "character"):
            yield RULE.finding(stmt, f"{stmt.table}.{column} is {t['sql']}",
                               f"-- {column} text CHECK (char_length({column}) <= {t['mods'][0] if t['mods'] else 1})")
