"""Schema snapshots and the readable difference between two of them (drift, executions, rehearsals).

A snapshot is the schema digest's rows (tables, views, columns, constraints, indexes, triggers,
functions, sequences, policies, enums and domains, each with its definition from the catalog) for
every schema except the system ones and the tool's own ``dataflow*`` schemas, read in one
REPEATABLE READ transaction so all eleven queries see the same catalog. The digest is the same
function the executor uses, so two equal structures digest equal whatever their OIDs.

The diff names objects, not rows: an object is added, removed or changed, and each carries its
definition (before and after for a change, with the fields that differ). It reads the digest's
objects only, so the executor diffs the digests it already reads before and after a run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import psycopg

from migrations_app.engines.catalog import query
from migrations_app.engines.execution.digest import SchemaDigestError, schema_digest
from targets.engines.connections import TargetConnection

RELKINDS = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view",
            "f": "foreign table", "S": "sequence", "c": "composite type"}
CONSTRAINT_TYPES = {"p": "primary key", "f": "foreign key", "u": "unique", "c": "check", "x": "exclusion",
                    "n": "not null", "t": "constraint trigger"}
POLICY_COMMANDS = {"*": "ALL", "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}


class SnapshotError(Exception):
    pass


@dataclasses.dataclass
class SchemaSnapshot:
    digest: str
    schemas: list[str]
    objects: dict[str, list[dict]]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SchemaSnapshot":
        return cls(digest=data.get("digest", ""), schemas=list(data.get("schemas", [])),
                   objects=dict(data.get("objects", {})))


@dataclasses.dataclass
class ObjectChange:
    kind: str             # "table", "column", "index", ...
    name: str             # schema-qualified
    change: str           # "added" | "removed" | "changed"
    before: str = ""      # definition on the reference side
    after: str = ""       # definition live
    fields: list[str] = dataclasses.field(default_factory=list)  # what differs, for a change


@dataclasses.dataclass
class SchemaDiff:
    changes: list[ObjectChange]

    @property
    def added(self) -> list[ObjectChange]:
        return [c for c in self.changes if c.change == "added"]

    @property
    def removed(self) -> list[ObjectChange]:
        return [c for c in self.changes if c.change == "removed"]

    @property
    def changed(self) -> list[ObjectChange]:
        return [c for c in self.changes if c.change == "changed"]

    def to_dict(self) -> dict:
        return {"changes": [dataclasses.asdict(c) for c in self.changes]}

    def as_text(self) -> str:
        """The diff as plain text (alert messages, webhook payloads, logs of a check)."""
        lines = []
        for c in self.changes:
            mark = {"added": "+", "removed": "-", "changed": "~"}[c.change]
            lines.append(f"{mark} {c.kind} {c.name} ({c.change}{': ' + ', '.join(c.fields) if c.fields else ''})")
            if c.change == "changed":
                lines += [f"    before: {line}" for line in c.before.splitlines()]
                lines += [f"    after:  {line}" for line in c.after.splitlines()]
            else:
                lines += [f"    {line}" for line in (c.after or c.before).splitlines()]
        return "\n".join(lines)


def take_snapshot(target: TargetConnection) -> SchemaSnapshot:
    """Read the live schema of ``target`` (one read-only session, one catalog snapshot)."""
    try:
        conn = target.connect(read_only=True)
    except Exception as exc:  # TargetConnectionError carries a message without the password
        raise SnapshotError(str(exc)) from exc
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        schemas = [row[0] for row in conn.execute(query("snapshot_schemas")).fetchall()]
        if not schemas:
            return SchemaSnapshot(digest=schema_digest_of({}), schemas=[], objects={})
        digest = schema_digest(conn, schemas)
        return SchemaSnapshot(digest=digest.digest, schemas=digest.schemas, objects=digest.objects)
    except (psycopg.Error, SchemaDigestError) as exc:
        raise SnapshotError(f"cannot read the schema of {target.describe()}: {exc}") from exc
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()


def schema_digest_of(objects: dict) -> str:
    text = json.dumps(objects, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def diff_snapshots(reference: SchemaSnapshot, live: SchemaSnapshot) -> SchemaDiff:
    """What changed from ``reference`` to ``live``, object by object, in a stable order."""
    return diff_objects(reference.objects, live.objects)


def diff_objects(reference: dict[str, list[dict]], live: dict[str, list[dict]]) -> SchemaDiff:
    """The same diff from two digests' ``objects`` (``SchemaDigest.objects``)."""
    before, after = _objects(reference), _objects(live)
    columns_before, columns_after = _columns_by_relation(before), _columns_by_relation(after)
    changes = []
    for key in sorted(set(before) | set(after)):
        kind, name = key
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        label = RELKINDS.get((new or old)["relations"]["relkind"], "relation") if kind == "relation" else kind
        if old is None:
            if _inside_added_relation(key, after, before):
                continue  # shown in the relation's own definition
            changes.append(ObjectChange(label, name, "added", after=_definition(kind, name, new, columns_after)))
        elif new is None:
            if _inside_added_relation(key, before, after):
                continue
            changes.append(ObjectChange(label, name, "removed", before=_definition(kind, name, old, columns_before)))
        else:
            fields = sorted(f"{family}.{field}" if len(old) > 1 else field
                            for family in set(old) | set(new)
                            for field in set(old.get(family, {})) | set(new.get(family, {}))
                            if old.get(family, {}).get(field) != new.get(family, {}).get(field))
            changes.append(ObjectChange(label, name, "changed", before=_definition(kind, name, old, columns_before),
                                        after=_definition(kind, name, new, columns_after), fields=fields))
    order = {"added": 0, "removed": 1, "changed": 2}
    changes.sort(key=lambda c: (order[c.change], c.name, c.kind))
    return SchemaDiff(changes)


# Objects: (kind, qualified name) -> {family: row} ------------------------------------------------

def _objects(objects: dict[str, list[dict]]) -> dict[tuple[str, str], dict[str, dict]]:
    out: dict[tuple[str, str], dict[str, dict]] = {}
    for family, rows in objects.items():
        for row in rows:
            kind, name = _identity(family, row)
            out.setdefault((kind, name), {})[family] = row
    return out


def _identity(family: str, row: dict) -> tuple[str, str]:
    s = row.get("schema", "")
    if family == "schemas":
        return "schema", s
    if family == "relations":
        kind = "sequence" if row["relkind"] == "S" else "relation"
        return kind, f"{s}.{row['name']}"
    if family == "columns":
        return "column", f"{s}.{row['relation']}.{row['name']}"
    if family == "constraints":
        return "constraint", f"{s}.{row['owner_name']}.{row['name']}"
    if family == "functions":
        return "function", f"{s}.{row['name']}({row['arguments']})"
    if family in ("sequences", "types"):
        return ("sequence" if family == "sequences" else "type"), f"{s}.{row['name']}"
    return _ON_RELATION[family], f"{s}.{row['relation']}.{row['name']}"


_ON_RELATION = {"indexes": "index", "triggers": "trigger", "policies": "policy"}


def _columns_by_relation(side: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for (kind, name), rows in side.items():
        if kind == "column" and "columns" in rows:
            out.setdefault(name.rsplit(".", 1)[0], []).append(rows["columns"])
    return out


def _inside_added_relation(key, side: dict, other: dict) -> bool:
    """A column of a relation that exists on one side only: the relation's definition lists it."""
    kind, name = key
    if kind != "column":
        return False
    relation = ("relation", name.rsplit(".", 1)[0])
    return relation in side and relation not in other


# Definitions ------------------------------------------------------------------------------------

def _definition(kind: str, name: str, rows: dict[str, dict], columns: dict[str, list[dict]]) -> str:
    if kind == "relation":
        return _relation_definition(name, rows["relations"], columns.get(name, []))
    if kind == "sequence":
        return _sequence_definition(name, rows.get("sequences"), rows.get("relations"))
    row = next(iter(rows.values()))
    render = {"schema": lambda: f"CREATE SCHEMA {name}",
              "column": lambda: f"{name}: {_column(row)}",
              "constraint": lambda: _constraint(row),
              "index": lambda: row["definition"] + ("" if row.get("valid", True) else "  -- INVALID"),
              "trigger": lambda: row["definition"] + ("  -- disabled" if row.get("enabled") == "D" else ""),
              "function": lambda: (row.get("definition") or f"aggregate {name}").strip(),
              "policy": lambda: _policy(row),
              "type": lambda: _type(name, row)}
    return render[kind]()


def _column(row: dict) -> str:
    text = f"{row['name']} {row['type']}"
    if row.get("collation"):
        text += f' COLLATE "{row["collation"]}"'
    if row.get("not_null"):
        text += " NOT NULL"
    if row.get("default_expr"):
        text += f" DEFAULT {row['default_expr']}"
    if row.get("identity"):
        text += " GENERATED " + ("ALWAYS" if row["identity"] == "a" else "BY DEFAULT") + " AS IDENTITY"
    if row.get("generated"):
        text += " (generated)"
    return text + f"  -- position {row.get('position')}"


def _relation_definition(name: str, row: dict, columns: list[dict]) -> str:
    kind = RELKINDS.get(row["relkind"], row["relkind"])
    if row["relkind"] in ("v", "m"):
        return f"CREATE {kind.upper()} {name} AS\n{(row.get('view_definition') or '').strip()}"
    columns = sorted(columns, key=lambda c: c.get("position") or 0)
    body = ",\n".join(f"  {_column(c).split('  -- ')[0]}" for c in columns)
    keyword = {"c": "TYPE", "f": "FOREIGN TABLE"}.get(row["relkind"], "TABLE")
    text = f"CREATE {'UNLOGGED ' if row.get('persistence') == 'u' else ''}{keyword} {name} (\n{body}\n)"
    if row.get("relkind") == "c":
        text = text.replace(" (\n", " AS (\n", 1)
    if row.get("partition_key"):
        text += f" PARTITION BY {row['partition_key']}"
    if row.get("partition_bound"):
        text += f" -- partition {row['partition_bound']}"
    if row.get("parents"):
        text += f"\n-- child of {row['parents']}"
    if row.get("options"):
        text += f"\n-- WITH ({row['options']})"
    if row.get("row_security"):
        text += "\n-- row level security enabled" + (" and forced" if row.get("force_row_security") else "")
    return text


def _sequence_definition(name: str, row: dict | None, relation: dict | None) -> str:
    if row is None:
        return f"CREATE SEQUENCE {name}"
    text = (f"CREATE SEQUENCE {name} AS {row['type']} START {row['start']} INCREMENT {row['increment']} "
            f"MINVALUE {row['min']} MAXVALUE {row['max']} CACHE {row['cache']}{' CYCLE' if row.get('cycle') else ''}")
    if row.get("owned_by"):
        text += f" OWNED BY {row['schema']}.{row['owned_by']}"
    if relation and relation.get("persistence") == "u":
        text += "  -- unlogged"
    return text


def _constraint(row: dict) -> str:
    text = (f"ALTER TABLE {row['schema']}.{row['owner_name']} ADD CONSTRAINT {row['name']} {row['definition']}"
            f"  -- {CONSTRAINT_TYPES.get(row.get('type'), row.get('type'))}")
    if row.get("validated") is False:
        text += ", not validated"
    return text


def _policy(row: dict) -> str:
    # role 0 (PUBLIC) reads back from ::regrole as "-"
    text = (f"CREATE POLICY {row['name']} ON {row['schema']}.{row['relation']} AS "
            f"{'PERMISSIVE' if row.get('permissive') else 'RESTRICTIVE'} FOR {POLICY_COMMANDS.get(row['command'], row['command'])}"
            f" TO {', '.join('public' if r == '-' else r for r in row.get('roles') or ['public'])}")
    if row.get("using_expr"):
        text += f" USING ({row['using_expr']})"
    if row.get("check_expr"):
        text += f" WITH CHECK ({row['check_expr']})"
    return text


def _type(name: str, row: dict) -> str:
    if row.get("kind") == "e":
        labels = ", ".join("'" + label.replace("'", "''") + "'" for label in (row.get("labels") or "").split(",") if label)
        return f"CREATE TYPE {name} AS ENUM ({labels})"
    text = f"CREATE DOMAIN {name} AS {row.get('base_type')}"
    if row.get("not_null"):
        text += " NOT NULL"
    if row.get("default_expr"):
        text += f" DEFAULT {row['default_expr']}"
    return text
