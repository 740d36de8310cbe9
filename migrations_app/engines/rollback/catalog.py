"""Definitions of the objects a plan drops, read from the live catalog for their rollback.

``definition_requests`` names what each DROP statement removes (index, constraint, view,
routine, trigger, policy); ``risk.catalog.fetch_definitions`` reads all of them in one query
(``catalog/rollback_definitions.sql``), fully qualified whatever the reading session's
search_path. Results are keyed by ``definition_key`` so prefetched facts and a direct
connection give the same answer.
"""

from __future__ import annotations

from typing import Iterable

DROP_KINDS = {
    "DROP_INDEX": "index",
    "DROP_VIEW": "view",
    "DROP_MATERIALIZED_VIEW": "view",
    "DROP_FUNCTION": "routine",
    "DROP_PROCEDURE": "routine",
    "DROP_ROUTINE": "routine",
    "DROP_TRIGGER": "trigger",
    "DROP_POLICY": "policy",
}
# prokind letters each DROP accepts: f function, w window, p procedure (aggregates have their own DROP)
ROUTINE_KINDS = {"DROP_FUNCTION": "fw", "DROP_PROCEDURE": "p", "DROP_ROUTINE": "fwp"}


def is_constraint_drop(statement) -> bool:
    """ALTER TABLE whose every subcommand is DROP CONSTRAINT (anything else needs its own rollback)."""
    return (statement.kind == "DROP_CONSTRAINT" and bool(statement.details.get("dropped_constraints"))
            and set(statement.subcommands) == {"AT_DropConstraint"})


def requests_for(statement, schema: str) -> list[dict]:
    """The catalog lookups ``statement``'s rollback needs (empty when it needs none)."""
    if is_constraint_drop(statement):
        return [_request("constraint", statement.schema or schema, statement.table, name, schema)
                for name in statement.details["dropped_constraints"]]
    kind = DROP_KINDS.get(statement.kind)
    if kind is None:
        return []
    found = []
    for obj in statement.details.get("dropped", []):
        request = _request(kind, obj["schema"] or schema, obj.get("table"), obj["name"], schema)
        if kind == "routine":
            request.update(routine_kinds=ROUTINE_KINDS[statement.kind], args=obj.get("args"))
            request["key"] = definition_key(request)
        found.append(request)
    return found


def definition_requests(statements: Iterable, schema: str) -> list[dict]:
    """Every lookup of a plan, each once."""
    seen, found = set(), []
    for statement in statements:
        for request in requests_for(statement, schema):
            if request["key"] not in seen:
                seen.add(request["key"])
                found.append(request)
    return found


def _request(kind: str, schema: str, table: str | None, name: str, plan_schema: str) -> dict:
    request = {"kind": kind, "schema_name": schema, "table_name": table, "object_name": name,
               "plan_schema": plan_schema, "routine_kinds": "", "args": None}
    request["key"] = definition_key(request)
    return request


def definition_key(request: dict) -> str:
    args = request.get("args")
    arg_text = "*" if args is None else ",".join(
        f"{a.get('schema') or ''}.{a['name']}{'[]' if a.get('array') else ''}" for a in args)
    return "\x1f".join([request["kind"], request["schema_name"] or "", request.get("table_name") or "",
                        request["object_name"], request.get("routine_kinds") or "", arg_text,
                        request.get("plan_schema") or ""])


def dropped_index_tables(statement, facts, schema: str) -> set[str]:
    """Lower-cased names of the tables whose indexes ``statement`` drops, as the catalog read for
    its rollback found them: rebuilding a dropped index changes its table, which the DROP INDEX
    does not name. Empty without prefetched definitions."""
    definitions = getattr(facts, "definitions", None) or {}
    if statement.kind != "DROP_INDEX":
        return set()
    return {match["table_name"].lower() for request in requests_for(statement, schema)
            for match in definitions.get(request["key"], [])}
