"""Routines whose string bodies use what a drop removes (PostgreSQL does not track these).

The catalog query returns candidate bodies (their text names something the drop removes);
each is parsed once (cached) and matched against every relation and column that goes: the
target itself, and the views, partitions, children and columns the drop cascades to. This is
the one implementation of "which routines name this table": the rename analyzer and the
renamed-table lint rule read its answer.
"""

from __future__ import annotations

from migrations_app.engines.dependencies.model import Dependency, DependencyType, ImpactLevel
from migrations_app.engines.dependencies.plpgsql_refs import BodyParseError, TableTarget, find_references


def _search_path(config: list[str]) -> list[str]:
    return [part.strip().strip('"') for item in config if item.startswith("search_path=")
            for part in item.split("=", 1)[1].split(",")]


def _unqualified_resolves_to(schema: str, fn: dict) -> bool:
    path = _search_path(fn["config"])
    return schema in path if path else schema in ("public", fn["schema"])


def routine_dependencies(bodies: list[dict], target: dict, column: str | None,
                         dropped_relations: list[tuple[str, str]], dropped_columns: list[tuple[str, str, str]],
                         rules, dropped_keys=frozenset(), unrun_users: set | None = None,
                         broken: list | None = None) -> list[Dependency]:
    """One FUNCTION/PROCEDURE dependency per routine whose body uses what goes.

    ``dropped_keys``: the objects the drop removes (``classid:objid:objsubid``). A trigger
    function runs only through its triggers: through those the drop leaves (a trigger that
    names the dropped column, or is on a dropped table, goes with it), and one that no
    trigger runs any more cannot break.

    ``broken``: filled with ``(routine, triggers, dependency)`` for each reported trigger
    function that triggers the drop leaves still run (``trigger_chains`` follows the writes
    that fire them)."""
    schema, table = target["schema"], target["table_name"]
    lookups = [(schema, table, column, True)]
    lookups += [(s, t, None, False) for s, t in dropped_relations if (s, t) != (schema, table)]
    lookups += [(s, t, c, False) for s, t, c in dropped_columns if (s, t) not in dropped_relations]
    out = []
    for fn in bodies:
        dep_type = DependencyType.PROCEDURE if fn["prokind"] == "p" else DependencyType.FUNCTION
        triggers = [t for t in fn.get("triggers") or [] if t["key"] not in dropped_keys]
        # a trigger function nothing runs after the drop cannot break; whether it would if one of its
        # dropped triggers on the target were recreated (a mitigation must not do that) is still found
        unrun = fn.get("triggers") is not None and not triggers
        if unrun:
            triggers = [t for t in fn["triggers"] if t["relid"] == target["relid"]]
            if not triggers or unrun_users is None:
                continue
        on_target = [t for t in triggers if t["relid"] == target["relid"]]
        transition_tables = tuple(sorted({name for t in on_target for name in (t["old_table"], t["new_table"]) if name}))
        name = f"{fn['name']}({fn['identity_arguments']})"
        refs, named = [], []
        try:
            for ref_schema, ref_table, ref_column, is_target in lookups:
                row_arguments = tuple(arg["name"] for arg in fn["args"]
                                      if is_target and arg["relid"] == target["relid"] and arg["mode"] in "ibv")
                found = find_references(
                    language=fn["language"], body=fn["body"],
                    target=TableTarget(ref_schema, ref_table, _unqualified_resolves_to(ref_schema, fn)),
                    column=ref_column, signature=fn["arguments"], returns=fn["result"] or "void",
                    is_procedure=fn["prokind"] == "p", trigger_on_target=is_target and bool(on_target),
                    row_arguments=row_arguments, transition_tables=transition_tables if is_target else ())
                if found:
                    refs += found
                    named.append(".".join(p for p in (ref_schema, ref_table, ref_column) if p))
        except BodyParseError as exc:
            if unrun:  # fail closed for the mitigation: it must not recreate a trigger running it
                unrun_users.update({fn["name"], f"{fn['schema']}.{fn['name']}"})
                continue
            # Fail closed: a body we cannot read is a finding to review, not a clean bill.
            out.append(Dependency(dep_type, fn["schema"], name, None, [column] if column else [], fn["body"],
                                  ImpactLevel.MEDIUM,
                                  f"the body mentions the name but could not be parsed ({exc}): review it by hand",
                                  extra={"language": fn["language"], "parse_error": str(exc)}))
            if broken is not None and triggers:
                broken.append((fn, triggers, out[-1]))
            continue
        if not refs:
            continue
        if unrun:
            unrun_users.update({fn["name"], f"{fn['schema']}.{fn['name']}"})
            continue
        impact, reason = rules[dep_type]
        first = min(refs, key=lambda r: r.line)
        if on_target:
            reason += "; it runs as a trigger function on this table"
        if named and named[0] != ".".join(p for p in (schema, table, column) if p):
            reason += f" (it uses {', '.join(named)}, which the drop removes)"
        unknown = all(ref.kind == "unknown" for ref in refs)
        if unknown:
            reason = ("dynamic SQL in the body names it in pieces glued together at run time: the analyzer "
                      "cannot resolve it, so it is reported as an unknown dependent; review it by hand")
        elif all(ref.dynamic for ref in refs):
            reason += " (inside dynamic SQL)"
        out.append(Dependency(dep_type, fn["schema"], name, None, [column] if column else [], fn["body"],
                              impact, reason, line=first.line,
                              extra={"language": fn["language"], "lines": sorted({r.line for r in refs}),
                                     "trigger_function": bool(on_target), "uses": named,
                                     "unknown": unknown, "statement": first.context[:500]}))
        if broken is not None and triggers:
            broken.append((fn, triggers, out[-1]))
    return out
