"""prefer-text-field: varchar(n) makes every later widening an ACCESS EXCLUSIVE change on old versions
and encodes a business rule in the type."""

from migrations_app.engines.lint.base import Rule, declared_types

RULE = Rule(
    id="prefer-text-field",
    severity="info",
    problem="varchar(n) limits belong to the business rules, and changing a type is a schema migration; "
            "shrinking the limit rewrites the table.",
    solution="Use text with a CHECK constraint on the length (a constraint can be added NOT VALID and "
             "validated online).",
)


@RULE.check
def check(stmt, ctx):
    for column, t in declared_types(stmt):
        if t["name"] == "varchar" and t["mods"]:
            yield RULE.finding(stmt, f"{stmt.table}.{column} is {t['sql']}",
                               f"-- {column} text CONSTRAINT {column}_length CHECK (char_length({column}) <= {t['mods'][0]})")
