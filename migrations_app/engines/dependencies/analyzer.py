"""Dependency Analyzer (runbook component #137): what depends on a column or a table.

Everything PostgreSQL tracks is read from the catalog as the closure of ``pg_depend`` that
``DROP ... CASCADE`` would remove (views on views, constraints implemented by indexes,
partitions and inheritance children with their columns, sequences owned by the table and the
defaults elsewhere that use them, columns, domains and routines typed with the table's row
type, triggers, policies, rules, statistics, publications); what it does not track (string
bodies of SQL and PL/pgSQL routines, including ``%ROWTYPE``/``%TYPE`` declarations and
record fields) is parsed with pglast. A fixed number of queries runs per analysis, whatever
the size of the schema (one; two when the drop breaks a trigger function whose triggers
remain, to find the routines whose writes fire them: ``trigger_chains``). Any catalog error
raises ``DependencyAnalysisError``, and an object
the analyzer cannot classify is reported as an UNKNOWN dependent: the analyzer never answers
"no dependencies" because it failed, and never leaves out what it could not place.
"""

from __future__ import annotations

import time
from collections import deque

from migrations_app.engines.dependencies.catalog import catalog_session
from migrations_app.engines.dependencies.model import (
    COLUMN_RULES, FK_ACTIONS, TABLE_OWN, TABLE_OWN_TYPES, TABLE_RULES, Dependency, DependencyAnalysisError,
    DependencyReport, DependencyType, ImpactLevel, ObjectNotFoundError, RemovalRecommendation,
)
from migrations_app.engines.dependencies.bodies import routine_dependencies
from migrations_app.engines.dependencies.trigger_chains import trigger_chain_dependencies

_I = ImpactLevel
_T = DependencyType
_CONTYPES = {"p": _T.PRIMARY_KEY, "u": _T.UNIQUE_CONSTRAINT, "c": _T.CHECK_CONSTRAINT,
             "x": _T.EXCLUSION_CONSTRAINT, "t": _T.TRIGGER}


class DependencyAnalyzer:
    """``DependencyAnalyzer(connection)``: a ``TargetConnection`` or an open psycopg connection."""

    def __init__(self, connection):
        self.connection = connection

    def analyze_column_dependencies(self, table: str, column: str, schema: str = "public") -> DependencyReport:
        if not column:
            raise ObjectNotFoundError("a column name is required")
        return self._analyze(table, column, schema)

    def analyze_table_dependencies(self, table: str, schema: str = "public") -> DependencyReport:
        return self._analyze(table, None, schema)

    def _analyze(self, table: str, column: str | None, schema: str) -> DependencyReport:
        with catalog_session(self.connection, DependencyAnalysisError) as session:
            return self.analyze_with_session(session, table, column, schema)

    def analyze_with_session(self, session, table: str, column: str | None, schema: str) -> DependencyReport:
        """The analysis on an open ``CatalogSession`` (the rename analyzer shares its session)."""
        started = time.perf_counter()
        before = session.queries_run
        # Target, the drop's closure, its edges and candidate routine bodies come back together
        # (as JSON) from a single statement: one round trip and one snapshot (a second one only
        # for routines whose writes fire a broken trigger function, below).
        row = session.fetch("dep_analysis", {"schema": schema, "table": table, "column": column})[0]
        target = row["target"]
        if target is None:
            raise ObjectNotFoundError(f"table {schema}.{table} does not exist")
        if column is not None and target["attnum"] is None:
            raise ObjectNotFoundError(f"column {column} does not exist in {schema}.{table}")
        report = DependencyReport(schema=schema, table=table, column=column, column_type=target["column_type"],
                                  queries_run=session.queries_run - before,
                                  table_facts={key: target[key] for key in (
                                      "relkind", "privileges", "row_security", "has_triggers", "server_version_num",
                                      "partition_key_def")})
        closure = _Closure(row["dependents"], row["edges"])
        rules = COLUMN_RULES if column else TABLE_RULES
        deps = [dep for dep_row in row["dependents"] for dep in self._from_catalog(dep_row, closure, column, rules)]
        deps += _from_target(target, column, row["partition_keys"])
        unrun_users: set[str] = set()
        broken: list = []
        dropped_keys = frozenset(closure.rows)
        deps += routine_dependencies(row["bodies"], target, column, closure.dropped_relations(),
                                     closure.dropped_columns(), rules, dropped_keys, unrun_users, broken)
        # routines whose writes fire a trigger that runs a broken trigger function: a second
        # round trip, only when there is such a trigger (trigger_chains)
        deps += trigger_chain_dependencies(session, broken, deps, rules, column, target, dropped_keys)
        report.queries_run = session.queries_run - before
        for dep in deps:  # a trigger the drop removes whose function uses what goes: not to be recreated as is
            if dep.type == DependencyType.TRIGGER and dep.extra.get("function") in unrun_users:
                dep.extra["function_uses_dropped"] = True
        deps.sort(key=lambda d: (-d.impact.rank, d.type.value, d.schema, d.name, d.table or "", d.line or 0))
        report.dependencies = deps
        report.duration_ms = (time.perf_counter() - started) * 1000
        return report

    def _from_catalog(self, row: dict, closure: "_Closure", column: str | None, rules) -> list[Dependency]:
        kind, extra = row["kind"], dict(row["extra"] or {})
        if kind == "PART" or closure.is_part_of_another(row):
            return []
        columns = sorted(row["columns"] or ([column] if column else []))
        own = column is None and row["on_target"]
        if row["key"] in closure.copies_of:
            extra["partition_copies"] = sorted(closure.copies_of[row["key"]])

        def make(dep_type, *, reason=None, impact=None, cols=None) -> Dependency:
            if own and dep_type in TABLE_OWN_TYPES:
                level, why = TABLE_OWN
            else:
                level, why = rules.get(dep_type) or COLUMN_RULES[dep_type]
            name = f"{row['table_name']}.{row['name']}" if kind in ("COLUMN", "TYPE_ATTRIBUTE", "DEFAULT") else row["name"]
            path = closure.path_to(row["key"])
            return Dependency(dep_type, row["schema"] or "", name, row["table_name"],
                              columns if cols is None else cols, row["definition"] or "", impact or level,
                              reason or why, path=path if kind == "RELATION" or len(path) > 1 else [], extra=extra)

        if kind == "RELATION":
            dep = make(_T.MATERIALIZED_VIEW if extra["relkind"] == "m" else _T.VIEW)
            if len(dep.path) > 1:
                dep.reason += f" (built on {dep.path[-2]}, which reads it)"
            return [dep]
        if kind == "TABLE":
            if extra.get("partition"):
                return [make(_T.PARTITION)]
            return [make(_T.CHILD_TABLE, impact=_I.CRITICAL, reason=COLUMN_RULES[_T.COLUMN][1].replace(
                "the column depends on it", "the table inherits from it") if column else None)]
        if kind == "COLUMN":
            if closure.seeded_by_inheritance(row["key"]):
                return [make(_T.INHERITED_COLUMN)]
            if extra.get("generated"):
                return [make(_T.GENERATED_COLUMN)]
            return [make(_T.COLUMN)]
        if kind == "TYPE_ATTRIBUTE":
            return [make(_T.TYPE_ATTRIBUTE)]
        if kind == "DOMAIN":
            return [make(_T.DOMAIN)]
        if kind == "RULE":
            return [] if extra.get("view_rule") else [make(_T.RULE)]
        if kind == "CONSTRAINT":
            return self._constraint(row, extra, column, make)
        if kind == "INDEX":
            dep = make(_T.INDEX)
            if extra.get("unique") and column:
                dep.impact = _I.HIGH
                dep.reason = "the unique index is dropped with the column: duplicates become possible"
            return [dep]
        if kind == "SEQUENCE":
            return [make(_T.SEQUENCE)]
        if kind == "DEFAULT":
            if column and row["on_target"] and row["name"] == column:
                return [make(_T.DEFAULT, reason="the column's own default goes with it", impact=_I.INFORMATIONAL)]
            if own:
                return [make(_T.DEFAULT)]
            return [make(_T.DEFAULT, reason=TABLE_RULES[_T.DEFAULT][1], impact=TABLE_RULES[_T.DEFAULT][0])]
        if kind == "TRIGGER":
            return [] if extra.get("internal") else [make(_T.TRIGGER)]
        if kind in ("FUNCTION", "PROCEDURE"):
            why = ("the routine's SQL-standard body is bound to it" if extra.get("sql_standard_body")
                   else "an argument or the result of the routine has the dropped row type")
            return [make(_T(kind), impact=_I.CRITICAL, reason=f"{why}: CASCADE would drop the routine")]
        if kind in ("POLICY", "STATISTICS", "PUBLICATION"):
            return [make(_T(kind))]
        # Fail closed: what PostgreSQL would drop and we cannot classify is still reported.
        return [make(_T.UNKNOWN, cols=columns)]

    def _constraint(self, row, extra, column, make) -> list[Dependency]:
        contype = extra["contype"]
        if contype != "f":
            dep_type = _CONTYPES.get(contype)
            if extra.get("domain"):
                return [make(_T.CHECK_CONSTRAINT, reason="the domain's check constraint uses it: CASCADE drops it",
                             impact=_I.HIGH)]
            return [make(dep_type)] if dep_type else [make(_T.UNKNOWN)]
        local, referenced = extra.get("local_columns") or [], extra.get("referenced_columns") or []
        extra["column_pairs"] = [list(pair) for pair in zip(local, referenced)]
        extra["on_delete"] = FK_ACTIONS.get(extra.pop("on_delete", "a"), "NO ACTION")
        extra["on_update"] = FK_ACTIONS.get(extra.pop("on_update", "a"), "NO ACTION")
        rules_text = f" (ON DELETE {extra['on_delete']}, ON UPDATE {extra['on_update']})"
        # Which side the dropped object is on: the referenced side (an incoming key), or the
        # key's own table (outgoing, e.g. a partition's or child's copy counts as its table's).
        incoming = not extra["conrelid_is_target"] and (extra["confrelid_is_target"] or not row["on_target"])
        if extra["conrelid_is_target"] and extra["confrelid_is_target"]:
            incoming = column is not None and column in referenced and column not in local
        dep = make(_T.FOREIGN_KEY_INCOMING if incoming else _T.FOREIGN_KEY_OUTGOING, cols=list(local))
        dep.reason += rules_text
        return [dep]


def _from_target(target: dict, column: str | None, partition_keys: list[dict]) -> list[Dependency]:
    """Facts on the column itself that block or constrain the change (no object of their own)."""
    out = []
    listed = set(target["partition_key_of"] or [])
    for key in partition_keys if column else []:
        if key["table"] in listed:
            continue
        listed.add(key["table"])
        schema, _, name = key["table"].partition(".")
        out.append(Dependency(_T.PARTITION_KEY, schema, name, name, [column], f"PARTITION BY {key['key']}",
                              _I.CRITICAL, "the column is in the partition key of a partition below this table: "
                              "PostgreSQL refuses to drop it", extra={"partition_key": key["key"]}))
    if column and target["attnotnull"]:
        impact, reason = COLUMN_RULES[_T.NOT_NULL]
        out.append(Dependency(_T.NOT_NULL, target["schema"], f"{target['table_name']}.{column} NOT NULL",
                              target["table_name"], [column], "NOT NULL", impact, reason))
    for parent in target["partition_key_of"] or []:
        impact, reason = (COLUMN_RULES if column else TABLE_RULES)[_T.PARTITION_KEY]
        parent_schema, _, parent_table = parent.partition(".")
        out.append(Dependency(_T.PARTITION_KEY, parent_schema, parent_table, parent_table,
                              [column] if column else [], f"PARTITION BY {target['partition_key_def']}",
                              impact, reason, extra={"partition_key": target["partition_key_def"]}))
    if column and target["attinhcount"]:
        impact, reason = COLUMN_RULES[_T.INHERITED_FROM]
        for parent in target["inherited_from"] or []:
            if parent in (target["partition_key_of"] or []):
                continue
            parent_schema, _, parent_table = parent.partition(".")
            out.append(Dependency(_T.INHERITED_FROM, parent_schema, parent_table, parent_table, [column],
                                  f"INHERITS ({parent})", impact, reason))
    return out


class _Closure:
    """The objects a drop removes and the edges PostgreSQL's walk took to reach them."""

    def __init__(self, rows: list[dict], edges: list[list[str]]):
        self.rows = {row["key"]: row for row in rows}
        self.parents: dict[str, tuple[str, str]] = {}
        kind = lambda key: self.rows.get(key, {}).get("kind")  # noqa: E731
        # indexes that implement a constraint (the constraint is internal-owner of its index)
        self.constraint_indexes = {key for key, source, how in edges if how == "i" and kind(source) == "CONSTRAINT"}
        self.constraint_indexes |= {source for key, source, how in edges if how == "owner" and kind(key) == "CONSTRAINT"}
        self.dropped_domains = {(r["schema"], r["name"]) for r in rows if r["kind"] == "DOMAIN"}
        self.dropped_relids = {r["table_oid"] for r in rows if r["kind"] in ("RELATION", "TABLE") and not r["on_target"]}
        # a partition's copy of its parent's index, key or trigger goes with the parent's
        # object: reported once, on the parent, as PostgreSQL itself reports it
        self.copies_of: dict[str, list[str]] = {}
        for key, source, how in edges:
            if how == "P" and key in self.rows and source in self.rows:
                row = self.rows[key]
                self.copies_of.setdefault(source, []).append(f"{row['name']} on {row['table_schema']}.{row['table_name']}")
        children: dict[str, list[tuple[str, str]]] = {}
        seeds = []
        for key, source, how in edges:
            if how == "seed":
                seeds.append(key)
            else:
                children.setdefault(source, []).append((key, how))
        # Breadth first from the dropped object, in a fixed order: the shortest chain to
        # each object, the same on every run.
        queue = deque(sorted(seeds))
        seen = set(seeds)
        while queue:
            current = queue.popleft()
            for key, how in sorted(children.get(current, [])):
                if key not in seen:
                    seen.add(key)
                    self.parents[key] = (current, how)
                    queue.append(key)

    def path_to(self, key: str) -> list[str]:
        """Views, materialized views and columns on the way from the dropped object to ``key``."""
        labels = []
        while key in self.parents or key in self.rows:
            row = self.rows.get(key)
            if row and row["kind"] in ("RELATION", "COLUMN", "TABLE"):
                labels.append(_label(row))
            if key not in self.parents:
                break
            key = self.parents[key][0]
        return list(reversed(labels))

    def seeded_by_inheritance(self, key: str) -> bool:
        return self.parents.get(key, ("", ""))[1] == "inherit"

    def is_part_of_another(self, row: dict) -> bool:
        """A column of a relation that goes whole, or a default of a column that goes, is a
        part of that relation or column; an index that implements a constraint is the
        constraint."""
        classid, objid, subid = row["key"].split(":")
        if row["kind"] not in ("RELATION", "TABLE") and row.get("table_oid") in self.dropped_relids:
            return True  # an index, constraint, trigger, ... of a relation the drop removes whole
        if row["kind"] in ("COLUMN", "TYPE_ATTRIBUTE") and f"{classid}:{objid}:0" in self.rows:
            return True
        if row["kind"] == "CONSTRAINT" and row["extra"].get("domain"):
            return (row["table_schema"], row["extra"]["domain"]) in self.dropped_domains
        if row["kind"] == "DEFAULT":
            column_key = row["extra"].get("column_object", "")
            return column_key in self.rows or column_key.rsplit(":", 1)[0] + ":0" in self.rows
        return (row["kind"] == "INDEX" and row["key"] in self.constraint_indexes) or self.is_partition_copy(row["key"])

    def is_partition_copy(self, key: str) -> bool:
        row = self.rows[key]
        label = f"{row['name']} on {row['table_schema']}.{row['table_name']}"
        return any(label in copies and source != key for source, copies in self.copies_of.items())

    def dropped_relations(self) -> list[tuple[str, str]]:
        return sorted({(r["schema"], r["name"]) for r in self.rows.values() if r["kind"] in ("RELATION", "TABLE")})

    def dropped_columns(self) -> list[tuple[str, str, str]]:
        return sorted({(r["table_schema"], r["table_name"], r["name"]) for r in self.rows.values()
                       if r["kind"] == "COLUMN" and not self.is_part_of_another(r)})


def _label(row: dict) -> str:
    if row["kind"] == "COLUMN":
        return f"{row['table_schema']}.{row['table_name']}.{row['name']}"
    return f"{row['schema']}.{row['name']}"


__all__ = ["DependencyAnalyzer", "DependencyAnalysisError", "ObjectNotFoundError", "DependencyReport", "Dependency",
           "DependencyType", "ImpactLevel", "RemovalRecommendation", "FK_ACTIONS"]
