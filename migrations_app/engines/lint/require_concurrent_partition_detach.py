"""require-concurrent-partition-detach: DETACH PARTITION takes ACCESS EXCLUSIVE on the parent."""

from migrations_app.engines.lint.base import Rule, ident, table_ref

RULE = Rule(
    id="require-concurrent-partition-detach",
    severity="warning",
    problem="ALTER TABLE ... DETACH PARTITION holds ACCESS EXCLUSIVE on the partitioned table: every query on "
            "any partition waits behind it (and behind whatever it waits for).",
    solution="DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+) takes SHARE UPDATE EXCLUSIVE; it runs outside "
             "a transaction block and cannot be used with a default partition.",
)


@RULE.check
def check(stmt, ctx):
    if "AT_DetachPartition" not in stmt.subcommands:
        return
    for cmd in stmt.node.get("AlterTableStmt", {}).get("cmds", []):
        spec = cmd.get("AlterTableCmd", {})
        if spec.get("subtype") != "AT_DetachPartition":
            continue
        part = spec.get("def", {}).get("PartitionCmd", {})
        if part.get("concurrent"):
            continue
        name = part.get("name", {})
        child = ident(name.get("schemaname"), name.get("relname"))
        yield RULE.finding(stmt, f"DETACH PARTITION {child} locks {stmt.table} ACCESS EXCLUSIVE",
                           f"ALTER TABLE {table_ref(stmt)} DETACH PARTITION {child} CONCURRENTLY;")
