"""The statement policy's verdicts as findings (one rule per policy id), so they show beside the
other findings and count in the risk: refusals as errors with a CRITICAL floor (the analysis
also fails), the rest with the floor the policy gives them (see ``statements.policy``)."""

from migrations_app.engines.lint.base import Rule

_SOLUTIONS = {
    "statement-refused": ("The statement is refused by the statement policy: it ends the executor's transaction, "
                          "reaches beyond the plan's database, switches off the executor's guards, or reads files, "
                          "programs or other sessions.",
                          "Remove it. A plan that needs a longer statement timeout says so in its reviewed plan field; "
                          "cluster-level changes are made by hand, outside migrations."),
    "dynamic-sql": ("EXECUTE of SQL text built at run time: the statement it runs is unknown to the review.",
                    "Write the statements out, or EXECUTE a constant string (it is then analysed like any statement)."),
    "unreviewed-body": ("A routine or DO block in a language the tool does not parse.",
                        "Prefer SQL or PL/pgSQL; otherwise review the body by hand."),
    "foreign-data-access": ("Foreign servers, user mappings and foreign tables reach outside the database.",
                            "Review the server, its options and user mappings by hand."),
    "create-extension": ("CREATE EXTENSION runs the extension's install script as part of the plan.",
                         "Install extensions ahead of the migration, reviewed on their own."),
    "procedure-call": ("CALL runs a procedure whose body is not part of the plan.",
                       "Inline the statements, or review the procedure's current body."),
    "full-table-rewrite": ("VACUUM FULL and CLUSTER rewrite the whole table under ACCESS EXCLUSIVE.",
                           "Use pg_repack / pg_squeeze, or run it in a maintenance window."),
    "data-modifying-cte": ("A WITH clause that inserts, updates or deletes rows changes data its top-level "
                           "statement does not show.",
                           "Write the INSERT/UPDATE/DELETE as its own statement."),
}

RULES = [Rule(id=rule_id, severity="error" if rule_id == "statement-refused" else "warning",
              problem=problem, solution=solution) for rule_id, (problem, solution) in _SOLUTIONS.items()]
BY_ID = {rule.id: rule for rule in RULES}


def _check(stmt, ctx):
    for verdict in stmt.verdicts:
        rule = BY_ID["statement-refused"] if verdict.refused else BY_ID.get(verdict.rule)
        if rule is None:
            continue
        yield rule.finding(stmt, verdict.text(), risk_floor="CRITICAL" if verdict.refused else verdict.floor,
                           policy_rule=verdict.rule)


RULES[0].checker = _check  # one pass over the verdicts reports them all; the other rules carry the docs
