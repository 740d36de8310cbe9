"""ban-alter-domain-with-add-constraint and ban-create-domain-with-constraint: domain constraints are
checked against every column of the domain."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="ban-alter-domain-with-add-constraint",
    severity="warning",
    kinds=frozenset({"ALTER_DOMAIN"}),  # the check's first test: no finding for any other kind
    problem="ALTER DOMAIN ... ADD CONSTRAINT scans every table with a column of that domain while locking "
            "them.",
    solution="Put CHECK constraints on the table columns (they can be added NOT VALID and validated online), "
             "or add the domain constraint NOT VALID and VALIDATE it separately.",
)


@RULE.check
def check(stmt, ctx):
    if stmt.kind == "ALTER_DOMAIN" and stmt.details.get("adds_constraint") and stmt.scans_table:
        yield RULE.finding(stmt, "domain constraint validated against every column using the domain")


CREATE = Rule(
    id="ban-create-domain-with-constraint",
    severity="info",
    kinds=frozenset({"CREATE_DOMAIN"}),  # the check's first test: no finding for any other kind
    problem="A domain created with a CHECK constraint makes every later change to that rule an ALTER DOMAIN "
            "that scans every table using the domain while locking them.",
    solution="Put CHECK constraints on the table columns (they can be added NOT VALID and validated online).",
)


@CREATE.check
def check_create(stmt, ctx):
    if stmt.kind == "CREATE_DOMAIN" and stmt.details.get("has_constraint"):
        yield CREATE.finding(stmt, "domain created with a CHECK constraint")


RULES = [RULE, CREATE]
