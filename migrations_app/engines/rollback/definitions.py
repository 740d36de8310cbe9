"""Rollback SQL for DROP INDEX / CONSTRAINT / VIEW / MATERIALIZED VIEW / FUNCTION / PROCEDURE /
TRIGGER / POLICY, rebuilt from the object's definition as the catalog holds it now
(``catalog``: pg_get_indexdef, pg_get_constraintdef, pg_get_viewdef,
pg_get_functiondef, pg_get_triggerdef, pg_policy).

A rollback is one statement per operation (the executor runs one per operation's rollback), so
what PostgreSQL keeps beside an object in separate statements (comments, grants, owner, a
view's triggers and rules, a materialized view's indexes, a trigger's enabled state) is not in
it: ``DropRollback.follow_up`` holds that SQL and the reason names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migrations_app.engines.statements.identifiers import ident, literal
from migrations_app.engines.risk import Thresholds
from migrations_app.engines.rollback.catalog import DROP_KINDS, is_constraint_drop, requests_for

POLICY_COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}
TRIGGER_STATES = {"D": "DISABLE TRIGGER", "R": "ENABLE REPLICA TRIGGER", "A": "ENABLE ALWAYS TRIGGER"}


@dataclass
class DropRollback:
    sql: str | None
    reason: str
    follow_up: list[str] = field(default_factory=list)


def handles(statement) -> bool:
    return is_constraint_drop(statement) or statement.kind in DROP_KINDS


def drop_rollback(statement, definitions: dict[str, list[dict]] | None, schema: str,
                  thresholds: Thresholds | None = None) -> DropRollback:
    """``definitions``: ``fetch_definitions`` output covering this statement, or None when no
    catalog was read."""
    thresholds = thresholds or Thresholds()
    requests = requests_for(statement, schema)
    if definitions is None:
        return DropRollback(None, "the rollback needs the dropped object's current definition; connect the target "
                                  "database to derive it")
    if not is_constraint_drop(statement) and len(requests) != 1:
        return DropRollback(None, f"the statement drops {len(requests)} objects and a rollback is one statement per "
                                  "operation; write one DROP per object to get a rollback for each")
    if any(r["key"] not in definitions for r in requests):
        return DropRollback(None, "the dropped object's definition was not read from the catalog")
    matches = [definitions[r["key"]] for r in requests]
    missing = [r["object_name"] for r, m in zip(requests, matches) if not m]
    if missing:
        if statement.details.get("if_exists"):
            return DropRollback(None, f"{', '.join(missing)} is not in the catalog now: the DROP ... IF EXISTS does "
                                      "nothing, so there is nothing to roll back")
        return DropRollback(None, f"{', '.join(missing)} not found in the catalog (schema {requests[0]['schema_name']}); "
                                  "the DROP would fail, and no rollback can be derived")
    if is_constraint_drop(statement):
        result = _constraints(statement, requests, [m[0] for m in matches], schema, thresholds)
    else:
        builder = {"index": _index, "view": _view, "routine": _routine, "trigger": _trigger,
                   "policy": _policy}[requests[0]["kind"]]
        result = builder(requests[0], matches[0], statement, thresholds)
    if result.sql and statement.details.get("cascade"):
        result.reason += ("; CASCADE also drops the objects that depend on it, and this rollback does not "
                          "recreate them")
    return result


def _finish(sql: str, reason: str, follow_up: list[tuple[str, str]]) -> DropRollback:
    """``follow_up``: (what, SQL) pairs the one rollback statement cannot carry."""
    if follow_up:
        whats = ", ".join(dict.fromkeys(what for what, _ in follow_up))
        reason += (f"; not restored by this statement ({whats}), run after it: "
                   + "; ".join(text for _, text in follow_up))
    return DropRollback(sql, reason, [text for _, text in follow_up])


def _is_large(found: dict, thresholds: Thresholds) -> bool:
    return (max(found.get("table_rows") or 0, 0) >= thresholds.large_table_rows
            or (found.get("table_bytes") or 0) >= thresholds.large_table_bytes)


def _comment(what: str, target: str, text: str | None) -> list[tuple[str, str]]:
    return [("comment", f"COMMENT ON {what} {target} IS {literal(text)}")] if text else []


def _grants(on: str, found: dict, revoke_public_first: bool = False) -> list[tuple[str, str]]:
    found_grants = [("grant", f"GRANT {g['privileges']} ON {on} TO {g['grantee']}"
                              + (" WITH GRANT OPTION" if g["grantable"] else "")) for g in found["grants"]]
    if revoke_public_first:
        found_grants.insert(0, ("grant", f"REVOKE ALL ON {on} FROM PUBLIC"))
    return found_grants


def _owner(alter: str, found: dict) -> list[tuple[str, str]]:
    return [] if found["owner_is_current_user"] else [("owner", f"ALTER {alter} OWNER TO {found['owner']}")]


def _index(request, matches, statement, thresholds) -> DropRollback:
    found = matches[0]
    if found["constraint"]:
        return DropRollback(None, f"index {found['index']} implements constraint {ident(found['constraint'])}: "
                                  "PostgreSQL refuses to drop it with DROP INDEX (drop the constraint instead)")
    sql = found["definition"]
    notes = ["recreates the index from its current definition (pg_get_indexdef)"]
    if found["partitioned"]:
        # pg_get_indexdef says ON ONLY for a partitioned table's index; without ONLY the
        # partitions get theirs again (CONCURRENTLY is not possible on a partitioned table)
        sql = sql.replace(" ON ONLY ", " ON ", 1)
        notes.append("the partitions' indexes are rebuilt with it, under generated names")
    elif not statement.transactional or _is_large(found, thresholds):
        for head in ("CREATE UNIQUE INDEX ", "CREATE INDEX "):
            if sql.startswith(head):
                sql = head + "CONCURRENTLY " + sql[len(head):]
                break
        why = "the drop was concurrent" if not statement.transactional else "the table is large"
        notes.append(f"CONCURRENTLY because {why}: writes continue while it builds; it runs outside a transaction")
    if not found["valid"]:
        notes.append("the index is INVALID now (a failed build); the rollback builds a valid one")
    follow = _comment("INDEX", found["index"], found["comment"])
    if found["clustered"]:
        follow.append(("CLUSTER mark", f"ALTER TABLE {found['table']} CLUSTER ON {ident(request['object_name'])}"))
    if found["tablespace"]:
        follow.append(("tablespace", f"ALTER INDEX {found['index']} SET TABLESPACE {found['tablespace']}"))
    return _finish(sql, "; ".join(notes), follow)


def _constraints(statement, requests, founds, schema, thresholds) -> DropRollback:
    table = ident(statement.schema or schema, statement.table)
    inherited = [r["object_name"] for r, f in zip(requests, founds) if f["inherited"]]
    if inherited:
        return DropRollback(None, f"constraint {', '.join(inherited)} is inherited from a parent table: PostgreSQL "
                                  "refuses to drop it here, so there is nothing to roll back")
    parts = [f"ADD CONSTRAINT {ident(r['object_name'])} {f['definition']}" for r, f in zip(requests, founds)]
    notes = ["re-adds the constraint from its current definition (pg_get_constraintdef)"]
    if any(f["type"] in ("f", "c") and _is_large(f, thresholds) for f in founds):
        notes.append("on a table this size re-adding it checks every row while the table is locked "
                     "(NOT VALID then VALIDATE CONSTRAINT shortens the lock)")
    if any(f["type"] in ("p", "u", "x") for f in founds):
        notes.append("the index behind it is rebuilt while the table is locked")
    follow = []
    for r, f in zip(requests, founds):
        follow += _comment("CONSTRAINT", f"{ident(r['object_name'])} ON {table}", f["comment"])
        for fk in f["referencing"]:
            if statement.details.get("cascade"):
                follow.append(("foreign keys dropped by CASCADE",
                               f"ALTER TABLE {fk['table']} ADD CONSTRAINT {ident(fk['name'])} {fk['definition']}"))
                follow += _comment("CONSTRAINT", f"{ident(fk['name'])} ON {fk['table']}", fk["comment"])
            else:
                notes.append(f"foreign key {ident(fk['name'])} on {fk['table']} references it, so PostgreSQL refuses "
                             "this drop without CASCADE")
    return _finish(f"ALTER TABLE {table} " + ", ".join(parts), "; ".join(notes), follow)


def _view(request, matches, statement, thresholds) -> DropRollback:
    found = matches[0]
    materialized = found["relkind"] == "m"
    word = "MATERIALIZED VIEW" if materialized else "VIEW"
    name = found["view"]
    options = ", ".join(f"{o['name']} = {literal(o['value'])}" for o in found["options"])
    sql = f"CREATE {word} {name}" + (f" WITH ({options})" if options else "")
    if materialized and found["tablespace"]:
        sql += f" TABLESPACE {found['tablespace']}"
    sql += " AS\n" + found["definition"].strip().rstrip(";").rstrip()
    notes = [f"recreates the {word.lower()} from its current definition (pg_get_viewdef)"
             + (" with its options" if options else "")]
    if materialized:
        sql += " WITH DATA" if found["populated"] else " WITH NO DATA"
        if found["populated"]:
            notes.append("runs the view's query again to fill it")
    follow = _comment(word, name, found["comment"])
    follow += [("column comments", f"COMMENT ON COLUMN {name}.{c['column']} IS {literal(c['comment'])}")
               for c in found["column_comments"]]
    follow += [("column defaults", f"ALTER VIEW {name} ALTER COLUMN {c['column']} SET DEFAULT {c['default']}")
               for c in found["column_defaults"]]
    follow += _grants(name, found) + _owner(f"{word} {name}", found)
    follow += [("indexes", text) for text in found["indexes"]]
    follow += [("triggers", text) for text in found["triggers"]]
    follow += [("rules", text.rstrip(";")) for text in found["rules"]]
    return _finish(sql, "; ".join(notes), follow)


def _routine(request, matches, statement, thresholds) -> DropRollback:
    what = "routine" if statement.kind == "DROP_ROUTINE" else statement.kind[5:].lower()
    if any(a.get("pct_type") for a in request["args"] or []):
        return DropRollback(None, f"the {what}'s argument types are written with %TYPE; name the types themselves so "
                                  "the rollback can find it")
    if len(matches) > 1:
        signatures = ", ".join(sorted(m["signature"] for m in matches))
        return DropRollback(None, f"{len(matches)} {what}s match ({signatures}); refusing to guess which one is "
                                  "dropped: give the argument types")
    found = matches[0]
    word = "PROCEDURE" if found["prokind"] == "p" else "FUNCTION"
    follow = _comment(word, found["signature"], found["comment"])
    if not found["default_acl"]:
        follow += _grants(f"{word} {found['signature']}", found, revoke_public_first=True)
    follow += _owner(f"{word} {found['signature']}", found)
    return _finish(found["definition"].strip(),
                   f"recreates {found['signature']} from its current definition (pg_get_functiondef)", follow)


def _trigger(request, matches, statement, thresholds) -> DropRollback:
    found = matches[0]
    name = ident(request["object_name"])
    follow = _comment("TRIGGER", f"{name} ON {found['table']}", found["comment"])
    if found["enabled"] in TRIGGER_STATES:
        follow.append(("enabled state", f"ALTER TABLE {found['table']} {TRIGGER_STATES[found['enabled']]} {name}"))
    return _finish(found["definition"], "recreates the trigger from its current definition (pg_get_triggerdef)",
                   follow)


def _policy(request, matches, statement, thresholds) -> DropRollback:
    found = matches[0]
    name = ident(request["object_name"])
    sql = (f"CREATE POLICY {name} ON {found['table']} AS {'PERMISSIVE' if found['permissive'] else 'RESTRICTIVE'} "
           f"FOR {POLICY_COMMANDS[found['command']]} TO {', '.join(found['roles'])}")
    if found["using"]:
        sql += f" USING ({found['using']})"
    if found["with_check"]:
        sql += f" WITH CHECK ({found['with_check']})"
    return _finish(sql, "recreates the policy from pg_policy (kind, command, roles, USING, WITH CHECK)",
                   _comment("POLICY", f"{name} ON {found['table']}", found["comment"]))
