"""Routines that fail because a write of theirs fires a trigger the drop breaks.

A trigger function that uses what a drop removes (``bodies.routine_dependencies`` finds it)
fails whenever one of its remaining triggers fires, and so does every statement that fires
it: a routine whose body INSERTs, UPDATEs, DELETEs, MERGEs or TRUNCATEs the trigger's table
fails at its next call, although its own body may not name anything the drop removes.

One more catalog round trip, only when such a trigger function has a trigger left
(``dep_trigger_writers``): the details of those triggers (events, ``UPDATE OF`` columns,
row or statement level, WHEN), and the routines whose bodies name the trigger tables (and, by text,
to a fixed point, the tables whose triggers run a routine naming one of those). Each body is
parsed (the shared parse cache) and kept only when a statement really writes the table with
an event the trigger fires on (``UPDATE OF cols``: only when the UPDATE sets one of them).
Chains are followed to a fixed point: a trigger function found this way fails in turn, so
the routines writing its trigger's table are found too. Fail closed: a body that does not
parse, or dynamic SQL glued at run time that names the table and a write, is reported for
review; a trigger's WHEN condition is not evaluated (the routine is reported, the reason says
it fails only when the condition holds).

Not followed: writes that reach a table's triggers another way (a foreign key's ON DELETE
CASCADE / SET NULL writing the referencing table, an auto-updatable view writing its base
table) and calls of broken routines (a routine calling one the drop breaks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migrations_app.engines.dependencies.bodies import _unqualified_resolves_to
from migrations_app.engines.dependencies.model import Dependency, DependencyType, ImpactLevel
from migrations_app.engines.dependencies.plpgsql_refs import BodyParseError, may_mention, parsed_body

# pg_trigger.tgtype bits (src/include/catalog/pg_trigger.h)
_ROW, _INSERT, _DELETE, _UPDATE, _TRUNCATE = 1, 4, 8, 16, 32
_EVENTS = (("INSERT", _INSERT), ("UPDATE", _UPDATE), ("DELETE", _DELETE), ("TRUNCATE", _TRUNCATE))
_WRITE_WORD = re.compile(r"\b(insert|update|delete|merge|truncate)\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Cause:
    """A trigger that fails when it fires, and why (the text after "whose function ...")."""

    trigger: dict
    function: str  # schema.name(args) of the trigger's function
    why: str
    impact: ImpactLevel


@dataclass(frozen=True)
class _Write:
    event: str | None  # None: dynamic SQL that may write the table
    line: int
    statement: str
    dynamic: bool
    columns: tuple[str, ...] | None = None


def trigger_chain_dependencies(session, broken: list, deps: list[Dependency], rules, column: str | None,
                               target: dict, dropped_keys=frozenset()) -> list[Dependency]:
    """FUNCTION/PROCEDURE dependents that write a table whose trigger runs a broken function.

    ``broken``: ``(routine, remaining triggers, dependency)`` from ``routine_dependencies``.
    Runs the ``dep_trigger_writers`` query only when some of those triggers can fire."""
    keys = sorted({trigger["key"] for _, triggers, _ in broken for trigger in triggers})
    if not keys:
        return []
    row = session.fetch("dep_trigger_writers", {"triggers": "{" + ",".join(k.split(":")[1] for k in keys) + "}"})[0]
    fired = {trigger["key"]: trigger for trigger in row["fired"]}  # the enabled ones, with what fires them
    bodies = row["bodies"]
    causes = [_Cause(fired[trigger["key"]], _label(fn), _why(dep, column, target), dep.impact)
              for fn, triggers, dep in broken for trigger in triggers if trigger["key"] in fired]
    reported = {(dep.schema, dep.name) for dep in deps if dep.type in (DependencyType.FUNCTION, DependencyType.PROCEDURE)}
    out: list[Dependency] = []
    while causes:  # one level of the chain per pass; each routine is reported once, so this ends
        next_causes = []
        for fn in bodies:
            name = f"{fn['name']}({fn['identity_arguments']})"
            if (fn["schema"], name) in reported:
                continue
            live = [t for t in fn.get("triggers") or [] if t["key"] not in dropped_keys and t.get("enabled") != "D"]
            if fn.get("triggers") is not None and not live:
                continue  # a trigger function no trigger runs after the drop never writes anything
            dep = _first_failing_write(fn, name, causes, rules, column)
            if dep is None:
                continue
            reported.add((fn["schema"], name))
            out.append(dep)
            why = ("may fail in turn (its body could not be parsed)" if dep.extra.get("parse_error")
                   else "fails in turn: " + dep.reason.split("fails ", 1)[-1])
            next_causes += [_Cause(t, f"{fn['schema']}.{name}", why, dep.impact) for t in live]
        causes = next_causes
    return out


def _first_failing_write(fn: dict, name: str, causes: list[_Cause], rules, column) -> Dependency | None:
    dep_type = DependencyType.PROCEDURE if fn["prokind"] == "p" else DependencyType.FUNCTION
    cols = [column] if column else []
    for cause in causes:
        try:
            write = _write_firing(fn, cause.trigger)
        except BodyParseError as exc:
            if not _names_table(fn["body"], cause.trigger):
                continue
            return Dependency(dep_type, fn["schema"], name, None, cols, fn["body"], ImpactLevel.MEDIUM,
                              f"the body names {_table(cause.trigger)}, whose trigger {cause.trigger['name']} runs "
                              f"{cause.function}, which {cause.why}, but could not be parsed ({exc}): review it by hand",
                              extra={"language": fn["language"], "parse_error": str(exc),
                                     "fires_trigger": cause.trigger["name"], "trigger_function": False})
        if write is None:
            continue
        trigger = cause.trigger
        impact, _ = rules[dep_type]
        if cause.impact.rank < impact.rank:
            impact = cause.impact
        what = f"its {write.event} of {_table(trigger)}" if write.event else \
            f"dynamic SQL in it that may write {_table(trigger)}"
        reason = f"fails when {what} fires trigger {trigger['name']}, whose function {cause.function} {cause.why}"
        notes = []
        if write.event == "UPDATE" and trigger.get("columns"):
            notes.append(f"the trigger is UPDATE OF {', '.join(trigger['columns'])}"
                         + (f" and the statement sets {', '.join(write.columns)}" if write.columns else ""))
        notes.append("a row-level trigger: whenever the statement writes a row" if trigger["type"] & _ROW
                     else "a statement-level trigger: on every such statement, even one that writes no row")
        if trigger.get("has_when"):
            notes.append("only when the trigger's WHEN condition holds")
        if write.dynamic and write.event:
            notes.append("inside dynamic SQL")
        reason += f" ({'; '.join(notes)})"
        if not write.event:
            impact = ImpactLevel.MEDIUM if impact.rank > ImpactLevel.MEDIUM.rank else impact
            reason += ": the analyzer cannot resolve it; review it by hand"
        return Dependency(dep_type, fn["schema"], name, None, cols, fn["body"], impact, reason, line=write.line,
                          extra={"language": fn["language"], "lines": [write.line], "trigger_function": False,
                                 "fires_trigger": trigger["name"], "trigger_table": _table(trigger),
                                 "trigger_chain_function": cause.function, "unknown": not write.event,
                                 "statement": write.statement[:500]})
    return None


def _write_firing(fn: dict, trigger: dict) -> _Write | None:
    """The first statement of the body that writes the trigger's table (or a parent of it) with
    an event the trigger fires on; raises ``BodyParseError`` for a body that does not parse."""
    names = {(trigger["schema"], trigger["table"])} | {tuple(pair) for pair in trigger.get("above") or []}
    unqualified = {table for schema, table in names if _unqualified_resolves_to(schema, fn)}
    if not _names_table(fn["body"], trigger):
        return None
    events = {event for event, bit in _EVENTS if trigger["type"] & bit}
    watched = set(trigger.get("columns") or []) if not trigger.get("generated") else set()
    parsed = parsed_body(fn["language"], fn["body"], fn["arguments"], fn["result"] or "void", fn["prokind"] == "p")
    for fragment in parsed.fragments:
        if fragment.tree is None:
            text = fragment.unparsed_text
            if text is not None:
                if _WRITE_WORD.search(text) and any(may_mention(text, table) for _, table in names):
                    return _Write(None, fragment.line, text, True)
                continue
            if fragment.dynamic:
                continue
            raise BodyParseError(fragment.error)
        for facts in fragment.facts:
            for write in facts.table_writes:
                relation = write.relation
                ours = (relation.schema, relation.name) in names if relation.schema else relation.name in unqualified
                if not ours or write.event not in events:
                    continue
                if write.event == "UPDATE" and watched and write.columns is not None \
                        and not watched.intersection(write.columns):
                    continue  # UPDATE OF other columns: this UPDATE does not fire it
                start = facts.start
                location = relation.location if relation.location is not None else start
                length = facts.length or len(fragment.raw) - start
                return _Write(write.event, fragment.line + fragment.raw[:max(location, 0)].count(b"\n"),
                              fragment.raw[start:start + length].decode("utf-8", "replace").strip(), fragment.dynamic,
                              write.columns)
    return None


def _names_table(body: str, trigger: dict) -> bool:
    tables = [trigger["table"]] + [pair[1] for pair in trigger.get("above") or []]
    return any(may_mention(body, table) for table in tables)


def _why(dep: Dependency, column: str | None, target: dict) -> str:
    if dep.extra.get("parse_error"):
        return "may use what the drop removes (its body could not be parsed)"
    if dep.extra.get("unknown"):
        return "may use what the drop removes (dynamic SQL the analyzer cannot resolve)"
    uses = dep.extra.get("uses") or []
    own = ".".join(p for p in (target["schema"], target["table_name"], column) if p)
    if uses in ([], [own]):
        return "uses the dropped column" if column else "uses the dropped table"
    return f"uses {', '.join(uses)}, which the drop removes"


def _label(fn: dict) -> str:
    return f"{fn['schema']}.{fn['name']}({fn['identity_arguments']})"


def _table(trigger: dict) -> str:
    return f"{trigger['schema']}.{trigger['table']}"
