"""The naming family (Atlas NM101-NM106), off unless a policy switches them on: each new schema, table,
column, index, foreign key and check constraint name must match the rule's ``pattern`` option
(default: lower-case snake_case, which PostgreSQL never needs to quote)."""

import re

from migrations_app.engines.lint.base import Rule

DEFAULT_PATTERN = r"^[a-z_][a-z0-9_]*$"
_SOLUTION = ("Rename it to match the pattern (the rule's pattern option in the review policy; by default lower-case "
             "snake_case, which needs no quoting).")


def _rule(rule_id: str, what: str) -> Rule:
    return Rule(id=rule_id, severity="warning", enabled_by_default=False,
                problem=f"A {what} name that does not follow the team's naming pattern: mixed-case or unusual "
                        f"names must be quoted everywhere and are easy to get wrong.", solution=_SOLUTION)


SCHEMA, TABLE, COLUMN = _rule("naming-schema", "schema"), _rule("naming-table", "table"), _rule("naming-column", "column")
INDEX, FOREIGN_KEY, CHECK = (_rule("naming-index", "index"), _rule("naming-foreign-key", "foreign key"),
                             _rule("naming-check", "check constraint"))
RULES = [SCHEMA, TABLE, COLUMN, INDEX, FOREIGN_KEY, CHECK]


def _constraints(stmt) -> list[dict]:
    node = stmt.node
    if "CreateStmt" in node:
        found = []
        for elt in node["CreateStmt"].get("tableElts", []) or []:
            if "Constraint" in elt:
                found.append(elt["Constraint"])
            for con in (elt.get("ColumnDef") or {}).get("constraints", []) or []:
                found.append(con.get("Constraint", {}))
        return found
    return [cmd["AlterTableCmd"]["def"]["Constraint"] for cmd in node.get("AlterTableStmt", {}).get("cmds", [])
            if "Constraint" in (cmd.get("AlterTableCmd", {}).get("def") or {})]


def new_names(stmt) -> dict[str, list[str]]:
    """Names the statement gives to new objects, by naming rule."""
    names: dict[str, list[str]] = {r.id: [] for r in RULES}
    if stmt.kind == "CREATE_SCHEMA":
        names["naming-schema"].append(stmt.node["CreateSchemaStmt"].get("schemaname"))
    elif stmt.kind == "CREATE_TABLE":
        names["naming-table"].append(stmt.table)
        names["naming-column"] += [c for c, _ in ((c["column"], 0) for c in stmt.details.get("column_types", []))]
    elif stmt.kind == "RENAME_TABLE":
        names["naming-table"].append(stmt.details.get("new_name"))
    elif stmt.kind == "RENAME_COLUMN":
        names["naming-column"].append(stmt.details.get("new_name"))
    elif stmt.kind in ("CREATE_INDEX", "RENAME_INDEX"):
        names["naming-index"].append(stmt.details.get("index") or stmt.details.get("new_name"))
    names["naming-column"] += [c["name"] for c in stmt.details.get("added_columns", [])]
    for con in _constraints(stmt):
        key = {"CONSTR_FOREIGN": "naming-foreign-key", "CONSTR_CHECK": "naming-check"}.get(con.get("contype"))
        if key:
            names[key].append(con.get("conname"))
    return names


def _check_with(rule: Rule):
    def check(stmt, ctx):
        pattern = (ctx.rule_options.get(rule.id) or {}).get("pattern", DEFAULT_PATTERN)
        names = ctx.memo(f"naming:{stmt.index}", lambda: new_names(stmt))
        for name in names[rule.id]:
            if name and not re.search(pattern, name):
                yield rule.finding(stmt, f"{name!r} does not match {pattern}", name=name, pattern=pattern)
    return check


for _rule_obj in RULES:
    _rule_obj.checker = _check_with(_rule_obj)
