"""dropping-foreign-key (Atlas CD101): a foreign key dropped stops guarding referential integrity."""

from migrations_app.engines.lint.base import Rule

RULE = Rule(
    id="dropping-foreign-key",
    severity="warning",
    problem="Dropping a foreign key lets rows reference parents that do not exist from the moment it commits; "
            "putting it back later needs a scan of the table, and fails on the orphans written meanwhile.",
    solution="Keep the key; if it must go (a table split, a move to another database), drop it in its own "
             "reviewed step once no code relies on it, and keep its definition (ALTER TABLE ... ADD CONSTRAINT "
             "... NOT VALID, then VALIDATE) in the rollback.",
)


def _added_earlier(stmt, ctx, name: str) -> bool:
    return any(s.kind == "ADD_CONSTRAINT" and s.details.get("constraint") == name
               and s.details.get("constraint_type") == "CONSTR_FOREIGN" and s.table == stmt.table
               for s in ctx.statements[:stmt.index])


@RULE.check
def check(stmt, ctx):
    dropped = stmt.details.get("dropped_constraints") or []
    if not dropped or stmt.node_type != "AlterTableStmt":
        return
    live = {fk["conname"]: fk for fk in (ctx.facts.fks_of(ctx.schema_of(stmt), stmt.table) if ctx.facts else [])}
    for name in dropped:
        if name in live:
            yield RULE.finding(stmt, f"foreign key {name} ({live[name]['definition']}) dropped from {stmt.table}",
                               constraint=name)
        elif _added_earlier(stmt, ctx, name):
            yield RULE.finding(stmt, f"foreign key {name} added earlier in this plan is dropped", constraint=name)
