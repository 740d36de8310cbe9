"""require-enum-value-ordering (opt-in, Squawk's stance): ADD VALUE names where the value goes."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="require-enum-value-ordering",
    severity="warning",
    enabled_by_default=False,
    problem="ADD VALUE without BEFORE or AFTER appends the value at the end of the enum's sort order, which may "
            "not be the order ORDER BY and comparisons should give. Off by default: enum-value-ordering warns "
            "about the opposite (an inserted value changes existing orderings); a team that carries its Squawk "
            "configuration over can switch this on and enum-value-ordering off.",
    solution="Say where the value belongs: ALTER TYPE ... ADD VALUE 'x' BEFORE 'y' (or AFTER).",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind == "ADD_ENUM_VALUE" and not stmt.details.get("neighbor"):
        yield RULE.finding(stmt, f"value {stmt.details.get('new_value')!r} is appended at the end of {stmt.table}")
