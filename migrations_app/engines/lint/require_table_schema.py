"""require-table-schema (opt-in): tables named without their schema resolve through search_path."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="require-table-schema",
    severity="warning",
    enabled_by_default=False,
    problem="A table named without its schema is resolved through search_path: the same migration changes "
            "another table when it runs with another search_path (a tool, a role default, a shadowing table).",
    solution="Qualify every table: schema.table. (The executor runs in the plan's schema, so this is off "
             "unless a policy switches it on.)",
)

DDL_NODES = ("CreateStmt", "AlterTableStmt", "IndexStmt", "DropStmt", "RenameStmt", "TruncateStmt")


@RULE.check
def check(stmt, ctx):
    if stmt.node_type not in DDL_NODES:
        return
    for obj in stmt.objects:
        if obj.relkind == "table" and obj.table and obj.schema is None:
            yield RULE.finding(stmt, f"{obj.table} is not schema-qualified",
                               f"-- {ctx.default_schema}.{obj.table}", table=obj.table)
            return
