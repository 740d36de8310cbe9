"""prefer-timestamptz: timestamp without time zone loses the instant."""

from migrations_app.engines.lint.base import Rule, declared_types

RULE = Rule(
    id="prefer-timestamptz",
    severity="warning",
    problem="timestamp (without time zone) stores a wall-clock reading, not an instant: values written from "
            "sessions in different time zones cannot be compared.",
    solution="Use timestamptz; it costs the same 8 bytes.",
)


@RULE.check
def check(stmt, ctx):
    for column, t in declared_types(stmt):
        if t["name"] in ("timestamp", "time"):
            yield RULE.finding(stmt, f"{stmt.table}.{column} is {t['name']} without time zone",
                               f"-- {column} timestamptz")
