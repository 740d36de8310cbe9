"""Table Rename Analyzer (runbook component #139): what a table rename touches, and the plan.

PostgreSQL binds views, foreign keys, indexes, triggers, policies, rules, statistics,
publications and SQL-standard function bodies to the table's OID: they follow a rename with
no change. String bodies of SQL and PL/pgSQL routines name the table as text and break; and
the names of indexes, constraints and sequences that embed the old table name stay as they
were (harmless, but confusing). The report says which is which; the plan renames the table,
optionally renames those objects, and can keep a compatibility view under the old name.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


from migrations_app.engines.dependencies.analyzer import (
    DependencyAnalysisError, DependencyAnalyzer, DependencyType, ImpactLevel, ObjectNotFoundError,
)
from migrations_app.engines.dependencies.catalog import catalog_session
from migrations_app.engines.statements.identifiers import ident

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1


class InvalidRenameError(DependencyAnalysisError):
    """PostgreSQL would reject this rename (the message says why)."""


class RenameObjectType(Enum):
    VIEW = "VIEW"
    MATERIALIZED_VIEW = "MATERIALIZED_VIEW"
    FOREIGN_KEY = "FOREIGN_KEY"
    CONSTRAINT = "CONSTRAINT"
    INDEX = "INDEX"
    SEQUENCE = "SEQUENCE"
    TRIGGER = "TRIGGER"
    POLICY = "POLICY"
    RULE = "RULE"
    STATISTICS = "STATISTICS"
    PUBLICATION = "PUBLICATION"
    FUNCTION = "FUNCTION"
    PROCEDURE = "PROCEDURE"
    PARTITION = "PARTITION"
    CHILD_TABLE = "CHILD_TABLE"
    COLUMN = "COLUMN"
    DOMAIN = "DOMAIN"
    UNKNOWN = "UNKNOWN"


_TYPE_MAP = {
    DependencyType.VIEW: RenameObjectType.VIEW,
    DependencyType.MATERIALIZED_VIEW: RenameObjectType.MATERIALIZED_VIEW,
    DependencyType.FOREIGN_KEY_INCOMING: RenameObjectType.FOREIGN_KEY,
    DependencyType.FOREIGN_KEY_OUTGOING: RenameObjectType.FOREIGN_KEY,
    DependencyType.PRIMARY_KEY: RenameObjectType.CONSTRAINT,
    DependencyType.UNIQUE_CONSTRAINT: RenameObjectType.CONSTRAINT,
    DependencyType.CHECK_CONSTRAINT: RenameObjectType.CONSTRAINT,
    DependencyType.EXCLUSION_CONSTRAINT: RenameObjectType.CONSTRAINT,
    DependencyType.INDEX: RenameObjectType.INDEX,
    DependencyType.SEQUENCE: RenameObjectType.SEQUENCE,
    DependencyType.TRIGGER: RenameObjectType.TRIGGER,
    DependencyType.POLICY: RenameObjectType.POLICY,
    DependencyType.RULE: RenameObjectType.RULE,
    DependencyType.STATISTICS: RenameObjectType.STATISTICS,
    DependencyType.PUBLICATION: RenameObjectType.PUBLICATION,
    DependencyType.FUNCTION: RenameObjectType.FUNCTION,
    DependencyType.PROCEDURE: RenameObjectType.PROCEDURE,
    DependencyType.PARTITION_KEY: RenameObjectType.PARTITION,
    DependencyType.PARTITION: RenameObjectType.PARTITION,
    DependencyType.CHILD_TABLE: RenameObjectType.CHILD_TABLE,
    DependencyType.COLUMN: RenameObjectType.COLUMN,
    DependencyType.TYPE_ATTRIBUTE: RenameObjectType.COLUMN,
    DependencyType.DOMAIN: RenameObjectType.DOMAIN,
    DependencyType.UNKNOWN: RenameObjectType.UNKNOWN,
}
# Parts of the table itself (defaults, generated columns) need no entry of their own; a default
# elsewhere that calls nextval() on an owned sequence holds the sequence's OID and follows.
_SKIPPED = {DependencyType.DEFAULT, DependencyType.GENERATED_COLUMN, DependencyType.NOT_NULL,
            DependencyType.INHERITED_COLUMN, DependencyType.INHERITED_FROM}
# Privileges a view can be granted and that mean the same on it as on the table.
_VIEW_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
SECURITY_INVOKER_VERSION = 150000  # views WITH (security_invoker) exist from PostgreSQL 15
VIEW_LIMITS = ("a view under the old name cannot carry everything a table does: CREATE TRIGGER ... BEFORE/AFTER "
               "on it fails (the table's own triggers still fire for writes through it), a new foreign key cannot "
               "REFERENCES it, COPY ... FROM, TRUNCATE and ALTER TABLE by the old name fail, and columns added to "
               "the table later do not appear in it (SELECT * is expanded when the view is created); writes and "
               "INSERT ... RETURNING through it work only while it stays a plain single-table SELECT")


@dataclass
class SchemaObject:
    object_type: RenameObjectType
    object_name: str
    schema: str
    definition: str
    impact_level: ImpactLevel
    requires_sql_rewrite: bool
    reason: str
    table: str | None = None
    line: int | None = None
    suggested_name: str | None = None  # for names that embed the old table name

    def to_dict(self) -> dict[str, Any]:
        return {"object_type": self.object_type.value, "object_name": self.object_name, "schema": self.schema,
                "table": self.table, "definition": self.definition, "impact_level": self.impact_level.value,
                "requires_sql_rewrite": self.requires_sql_rewrite, "reason": self.reason, "line": self.line,
                "suggested_name": self.suggested_name}


@dataclass
class RenameImpactSummary:
    total_objects: int
    overall_risk: ImpactLevel
    critical_count: int = 0
    high_count: int = 0
    medium_count: int = 0
    low_count: int = 0
    informational_count: int = 0
    rewrite_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"total_objects": self.total_objects, "overall_risk": self.overall_risk.value,
                "critical_count": self.critical_count, "high_count": self.high_count,
                "medium_count": self.medium_count, "low_count": self.low_count,
                "informational_count": self.informational_count, "rewrite_count": self.rewrite_count}


@dataclass
class RenameStep:
    description: str
    sql: str
    rollback_sql: str

    def to_dict(self) -> dict[str, str]:
        return {"description": self.description, "sql": self.sql, "rollback_sql": self.rollback_sql}


@dataclass
class RenamePlan:
    steps: list[RenameStep]
    compatibility_view: bool
    notes: list[str] = field(default_factory=list)

    @property
    def sql(self) -> str:
        return "\n".join(step.sql for step in self.steps)

    @property
    def rollback_sql(self) -> str:
        return "\n".join(step.rollback_sql for step in reversed(self.steps))

    def to_dict(self) -> dict[str, Any]:
        return {"compatibility_view": self.compatibility_view, "steps": [s.to_dict() for s in self.steps],
                "sql": self.sql, "rollback_sql": self.rollback_sql, "notes": list(self.notes)}


@dataclass
class TableRenameReport:
    schema: str
    old_name: str
    new_name: str
    schema_objects: list[SchemaObject]
    impact_summary: RenameImpactSummary
    relkind: str = "r"
    duration_ms: float = 0.0
    queries_run: int = 0
    notes: list[str] = field(default_factory=list)
    table_facts: dict[str, Any] = field(default_factory=dict)

    @property
    def readers_of_old_name(self) -> list[SchemaObject]:
        return [obj for obj in self.schema_objects if obj.requires_sql_rewrite]

    def generate_rename_plan(self, compatibility_view: bool | None = None) -> RenamePlan:
        """The rename, renames of objects whose names embed the old name, and (by default when
        routines still read the old name) a view under the old name. Each step has its rollback."""
        if compatibility_view is None:
            compatibility_view = bool(self.readers_of_old_name)
        steps = [RenameStep(f"rename {self.schema}.{self.old_name} to {self.new_name}",
                            f"ALTER TABLE {ident(self.schema, self.old_name)} RENAME TO {ident(self.new_name)};",
                            f"ALTER TABLE {ident(self.schema, self.new_name)} RENAME TO {ident(self.old_name)};")]
        for obj in self.schema_objects:
            if not obj.suggested_name:
                continue
            if obj.object_type is RenameObjectType.INDEX:
                kind, target = "INDEX", ident(obj.schema, obj.object_name)
                forward = f"ALTER INDEX {target} RENAME TO {ident(obj.suggested_name)};"
                back = f"ALTER INDEX {ident(obj.schema, obj.suggested_name)} RENAME TO {ident(obj.object_name)};"
            elif obj.object_type is RenameObjectType.SEQUENCE:
                kind = "SEQUENCE"
                forward = f"ALTER SEQUENCE {ident(obj.schema, obj.object_name)} RENAME TO {ident(obj.suggested_name)};"
                back = f"ALTER SEQUENCE {ident(obj.schema, obj.suggested_name)} RENAME TO {ident(obj.object_name)};"
            else:  # a constraint (renaming it renames its index too)
                kind, table = "CONSTRAINT", ident(self.schema, self.new_name)
                forward = f"ALTER TABLE {table} RENAME CONSTRAINT {ident(obj.object_name)} TO {ident(obj.suggested_name)};"
                back = f"ALTER TABLE {table} RENAME CONSTRAINT {ident(obj.suggested_name)} TO {ident(obj.object_name)};"
            steps.append(RenameStep(f"rename {kind.lower()} {obj.object_name} to {obj.suggested_name}", forward, back))
        notes: list[str] = []
        if compatibility_view:
            view_steps, notes = self._compatibility_view()
            steps += view_steps
            compatibility_view = bool(view_steps)
        return RenamePlan(steps, compatibility_view, notes)

    def _compatibility_view(self) -> tuple[list[RenameStep], list[str]]:
        """A view under the old name that checks the reader's own rights and row-level
        security (security_invoker) and carries the table's grants; and what it cannot carry."""
        facts = self.table_facts
        old, new = ident(self.schema, self.old_name), ident(self.schema, self.new_name)
        notes = [VIEW_LIMITS]
        if (facts.get("server_version_num") or 0) < SECURITY_INVOKER_VERSION:
            if facts.get("row_security"):
                return [], [f"no compatibility view: PostgreSQL {facts.get('server_version_num')} has no "
                            "security_invoker views, and a view under the old name would bypass the table's "
                            "row-level security for its readers"]
            options = ""
            notes.append("this server has no security_invoker views: the compatibility view reads the table with "
                         "its owner's rights (the grants below decide who may use it)")
        else:
            options = " WITH (security_invoker = true)"
        sql_text = [f"CREATE VIEW {old}{options} AS SELECT * FROM {new};"]
        by_grantee: dict[tuple[str, bool], list[str]] = {}
        skipped = set()
        for grant in facts.get("privileges") or []:
            if grant["privilege"] in _VIEW_PRIVILEGES:
                by_grantee.setdefault((grant["grantee"], grant["grantable"]), []).append(grant["privilege"])
            else:
                skipped.add(grant["privilege"])
        for (grantee, grantable), privileges in sorted(by_grantee.items()):
            who = "PUBLIC" if grantee == "PUBLIC" else ident(grantee)
            sql_text.append(f"GRANT {', '.join(sorted(set(privileges)))} ON {old} TO {who}"
                            + (" WITH GRANT OPTION;" if grantable else ";"))
        if skipped:
            notes.append(f"not copied to the view (no meaning on a view): {', '.join(sorted(skipped))}")
        if facts.get("has_triggers"):
            notes.append(f"{self.schema}.{self.new_name} has triggers: they still fire for writes through the view")
        step = RenameStep(f"keep a compatibility view {self.schema}.{self.old_name} (security invoker, the table's "
                          "grants) for readers of the old name", "\n".join(sql_text), f"DROP VIEW {old};")
        return [step], notes

    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.schema, "old_name": self.old_name, "new_name": self.new_name,
                "duration_ms": round(self.duration_ms, 3), "queries_run": self.queries_run,
                "impact_summary": self.impact_summary.to_dict(), "notes": list(self.notes),
                "schema_objects": [obj.to_dict() for obj in self.schema_objects],
                "plan": self.generate_rename_plan().to_dict()}


class TableRenameAnalyzer:
    def __init__(self, connection):
        self.connection = connection

    def analyze_table_rename(self, old_name: str, new_name: str, schema: str = "public") -> TableRenameReport:
        started = time.perf_counter()
        _check_identifier(new_name)
        deps = DependencyAnalyzer(self.connection)
        with catalog_session(self.connection, DependencyAnalysisError) as session:
            # The dependency analyzer's three queries, on this same session, then one name check.
            dep_report = deps.analyze_with_session(session, old_name, None, schema)
            objects = [self._schema_object(dep, old_name, new_name) for dep in dep_report.dependencies
                       if dep.type not in _SKIPPED]
            objects = [obj for obj in objects if obj is not None]
            candidates = [new_name] + [obj.suggested_name for obj in objects if obj.suggested_name]
            taken = {row["name"]: row["taken_by"] for row in
                     session.fetch("rename_names_taken", {"schema": schema, "names": candidates})}
            queries = session.queries_run
        if new_name in taken:
            raise InvalidRenameError(f"{schema}.{new_name} already exists ({taken[new_name]})")
        notes = []
        for obj in objects:
            if obj.suggested_name in taken:
                notes.append(f"{obj.object_name} keeps its name: {obj.suggested_name} is taken")
                obj.suggested_name = None
        objects.sort(key=lambda o: (-o.impact_level.rank, o.object_type.value, o.schema, o.object_name))
        notes.append("application queries outside the database are not visible here; "
                     "a compatibility view under the old name covers them during the change")
        report = TableRenameReport(schema, old_name, new_name, objects, _summary(objects),
                                   relkind=dep_report.table_facts.get("relkind") or "r",
                                   queries_run=queries, notes=notes, table_facts=dep_report.table_facts)
        report.duration_ms = (time.perf_counter() - started) * 1000
        return report

    def _schema_object(self, dep, old_name: str, new_name: str) -> SchemaObject | None:
        obj_type = _TYPE_MAP[dep.type]
        name = dep.name
        if dep.type in (DependencyType.FUNCTION, DependencyType.PROCEDURE) and dep.line is not None:
            return SchemaObject(obj_type, name, dep.schema, dep.definition, ImpactLevel.HIGH, True,
                                f"the body names {old_name} as text (line {dep.line}): it fails after the rename "
                                "until rewritten", line=dep.line)
        impact, reason = ImpactLevel.INFORMATIONAL, "bound by OID: follows the rename, nothing to change"
        if dep.type in (DependencyType.VIEW, DependencyType.MATERIALIZED_VIEW):
            impact, reason = ImpactLevel.LOW, "bound by OID: its stored definition follows the rename"
        if dep.type in (DependencyType.FUNCTION, DependencyType.PROCEDURE) and dep.extra.get("sql_standard_body"):
            return SchemaObject(obj_type, name, dep.schema, dep.definition, ImpactLevel.INFORMATIONAL, False,
                                "SQL-standard body, bound by OID: follows the rename")
        if dep.type in (DependencyType.FUNCTION, DependencyType.PROCEDURE):
            impact, reason = ImpactLevel.MEDIUM, dep.reason  # unparsable body: review by hand
            return SchemaObject(obj_type, name, dep.schema, dep.definition, impact, True, reason)
        if dep.type is DependencyType.UNKNOWN:
            return SchemaObject(obj_type, name, dep.schema, dep.definition, ImpactLevel.MEDIUM, False,
                                "an object of a kind the analyzer cannot classify depends on the table: "
                                "check by hand that it follows the rename", table=dep.table)
        suggested = None
        owned_by_table = dep.table == old_name and dep.type in (
            DependencyType.INDEX, DependencyType.SEQUENCE, DependencyType.PRIMARY_KEY, DependencyType.UNIQUE_CONSTRAINT,
            DependencyType.CHECK_CONSTRAINT, DependencyType.EXCLUSION_CONSTRAINT, DependencyType.FOREIGN_KEY_OUTGOING)
        if owned_by_table and old_name in name:
            candidate = name.replace(old_name, new_name, 1)
            if len(candidate.encode("utf-8")) <= MAX_IDENTIFIER_BYTES:
                suggested = candidate
                impact = ImpactLevel.LOW
                reason = f"follows the rename, but its name still says {old_name}: rename it to {candidate}"
        return SchemaObject(obj_type, name, dep.schema, dep.definition, impact, False, reason,
                            table=new_name if dep.table == old_name else dep.table, suggested_name=suggested)


def _summary(objects: list[SchemaObject]) -> RenameImpactSummary:
    counts = {level: 0 for level in ImpactLevel}
    for obj in objects:
        counts[obj.impact_level] += 1
    overall = max((obj.impact_level for obj in objects), key=lambda lv: lv.rank, default=ImpactLevel.LOW)
    if overall.rank < ImpactLevel.LOW.rank:
        overall = ImpactLevel.LOW  # a rename always changes the name clients use
    return RenameImpactSummary(len(objects), overall, counts[ImpactLevel.CRITICAL], counts[ImpactLevel.HIGH],
                               counts[ImpactLevel.MEDIUM], counts[ImpactLevel.LOW],
                               counts[ImpactLevel.INFORMATIONAL], sum(o.requires_sql_rewrite for o in objects))


def _check_identifier(name: str) -> None:
    """Reject what PostgreSQL rejects for a quoted identifier, and nothing else."""
    if not name:
        raise InvalidRenameError("the new name is empty (PostgreSQL rejects zero-length identifiers)")
    if "\x00" in name:
        raise InvalidRenameError("the new name contains a NUL character")
    size = len(name.encode("utf-8"))
    if size > MAX_IDENTIFIER_BYTES:
        raise InvalidRenameError(f"the new name is {size} bytes; PostgreSQL allows at most {MAX_IDENTIFIER_BYTES} "
                                 "and would silently truncate it")




__all__ = ["TableRenameAnalyzer", "TableRenameReport", "SchemaObject", "RenameObjectType", "RenameImpactSummary",
           "RenamePlan", "RenameStep", "InvalidRenameError", "ObjectNotFoundError"]
