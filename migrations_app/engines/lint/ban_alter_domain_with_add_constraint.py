"""ban-alter-domain-with-add-constraint: domain constraints are checked against every column of the domain."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="ban-alter-domain-with-add-constraint",
    severity="warning",
    problem="ALTER DOMAIN ... ADD CONSTRAINT scans every table with a column of that domain while locking "
            "them; CREATE DOMAIN with a CHECK makes later changes to the rule that expensive.",
    solution="Put CHECK constraints on the table columns (they can be added NOT VALID and validated online), "
             "or add the domain constraint NOT VALID and VALIDATE it separately.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind == "ALTER_DOMAIN" and stmt.details.get("adds_constraint") and stmt.scans_table:
        yield RULE.finding(stmt, "domain constraint validated against every column using the domain")
    elif stmt.kind == "CREATE_DOMAIN" and stmt.details.get("has_constraint"):
        yield RULE.finding(stmt, "domain created with a CHECK constraint", severity="info")
