"""Schema digest: a deterministic fingerprint of the schemas a migration touches.

Taken before and after every execution and rollback; a rollback is *verified* only when the
digest after it equals the one from before the migration. Built from the catalog (one query per
object family), never from OIDs or attnums, so equal structure digests equal even after a
drop-and-recreate. The tool's own ``dataflow_migration_locks`` table is left out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from contextlib import contextmanager
from typing import Iterable, Iterator

import psycopg
from psycopg.rows import dict_row

from migrations_app.engines.catalog import query
from targets.engines.connections import TargetConnection

FAMILIES = ("schemas", "relations", "columns", "constraints", "indexes", "triggers", "functions",
            "sequences", "policies", "types")


class SchemaDigestError(Exception):
    pass


@dataclasses.dataclass
class SchemaDigest:
    digest: str
    schemas: list[str]
    objects: dict[str, list[dict]]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def differences(self, other: "SchemaDigest") -> dict[str, dict[str, list]]:
        """Per object family, rows only in self ("before") and only in other ("after")."""
        out = {}
        for family in FAMILIES:
            mine = {_canonical(row) for row in self.objects.get(family, [])}
            theirs = {_canonical(row) for row in other.objects.get(family, [])}
            if mine != theirs:
                out[family] = {"only_before": sorted(mine - theirs), "only_after": sorted(theirs - mine)}
        return out


def reordered_relations(before: dict[str, list[dict]] | None, after: dict[str, list[dict]] | None) -> list[str]:
    """The relations whose columns differ only in their order, when that is the only difference
    between two digests' objects (else, or when nothing differs, ``[]``). A rollback that re-adds a
    dropped column can only add it last (PostgreSQL has no column reordering): every other property
    of the column, and every other object, came back."""
    if not before or not after:
        return []
    if any(_rows(before, family) != _rows(after, family) for family in FAMILIES if family != "columns"):
        return []

    def unordered(objects):
        return sorted(_canonical({k: v for k, v in row.items() if k != "position"}) for row in objects.get("columns", []))

    if unordered(before) != unordered(after):
        return []
    moved = set(_rows(before, "columns")) ^ set(_rows(after, "columns"))
    return sorted({f"{row['schema']}.{row['relation']}" for row in map(json.loads, moved)})


def column_order_note(relations: list[str]) -> str:
    return (f"schema verified except the column order of {', '.join(relations)}: the rollback re-adds a dropped "
            "column last (PostgreSQL cannot put it back in place); every column, type, default, constraint and "
            "index is as before. SELECT * and INSERT without a column list see the new order")


def _rows(objects: dict, family: str) -> list[str]:
    return sorted(_canonical(row) for row in objects.get(family, []))


def schema_digest(conn_or_target: TargetConnection | psycopg.Connection, schemas: Iterable[str], *,
                  prepare: bool | None = None) -> SchemaDigest:
    """``prepare=True`` keeps the ten queries prepared on ``conn`` (a session that reads the digest
    again, like the lock session before and after a migration: the second read skips parsing
    and, with plan_cache_mode=force_generic_plan, planning). The digest is the same either way."""
    names = sorted(set(schemas))
    if not names:
        raise SchemaDigestError("schema_digest needs at least one schema")
    with _connection(conn_or_target) as conn:
        try:
            objects = _read(conn, names, prepare)
        except psycopg.Error as exc:
            raise SchemaDigestError(f"cannot read the catalog for the schema digest: {exc}") from exc
    return _digest_of(objects, names)


def digest_and_snapshot(conn: psycopg.Connection, schemas: Iterable[str], *,
                        prepare: bool | None = None) -> tuple[SchemaDigest, SchemaDigest]:
    """The digest of ``schemas`` and the whole database's snapshot (every schema but the system
    ones and the tool's own, as ``schema_snapshot.take_snapshot`` reads it) from one catalog read
    in one REPEATABLE READ transaction. Each family's rows carry their schema and the queries
    filter row by row, so the digest equals ``schema_digest(conn, schemas)`` and the snapshot's
    digest equals ``take_snapshot``'s: one read after a migration serves the rollback's
    verification and the drift ledger."""
    names = sorted(set(schemas))
    if not names:
        raise SchemaDigestError("schema_digest needs at least one schema")
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            whole = [row[0] for row in conn.execute(query("snapshot_schemas"), prepare=prepare).fetchall()]
            objects = _read(conn, sorted(set(names) | set(whole)), prepare)
    except psycopg.Error as exc:
        raise SchemaDigestError(f"cannot read the catalog for the schema digest: {exc}") from exc
    # a database with no schema of its own snapshots as nothing at all (take_snapshot's answer)
    snapshot = _digest_of(_only(objects, whole), whole) if whole else _digest_of({}, [])
    return _digest_of(_only(objects, names), names), snapshot


def _read(conn: psycopg.Connection, names: list[str], prepare: bool | None) -> dict[str, list[dict]]:
    # one pipeline: ten catalog queries cost one round trip, not ten
    with conn.pipeline():
        cursors = {family: conn.cursor(row_factory=dict_row).execute(
            query(f"digest_{family}"), {"schemas": names}, prepare=prepare) for family in FAMILIES}
    return {family: [{k: _plain(v) for k, v in row.items()} for row in cur.fetchall()]
            for family, cur in cursors.items()}


def _only(objects: dict[str, list[dict]], names: list[str]) -> dict[str, list[dict]]:
    keep = set(names)
    return {family: [row for row in rows if row["schema"] in keep] for family, rows in objects.items()}


def _digest_of(objects: dict, names: list[str]) -> SchemaDigest:
    text = json.dumps(objects, sort_keys=True, separators=(",", ":"))
    return SchemaDigest(digest=hashlib.sha256(text.encode()).hexdigest(), schemas=names, objects=objects)


@contextmanager
def _connection(conn_or_target) -> Iterator[psycopg.Connection]:
    if isinstance(conn_or_target, TargetConnection):
        with conn_or_target.read_only() as conn:
            yield conn
    else:
        yield conn_or_target


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _canonical(row: dict) -> str:
    return json.dumps(row, sort_keys=True)
