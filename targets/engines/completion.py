"""The names a SQL editor completes: the target's schemas, their relations and their columns.

One catalog query (``catalog/completion_relations.sql``) in a read-only session with a short
statement timeout reads every relation a statement can name — tables, partitioned tables,
views, materialized views, foreign tables — in every schema that is not the system's, with its
columns in order. The answer is bounded (``RELATION_LIMIT`` relations, partitions last) and
says when it was cut. It never raises for an unreachable target or a failing query: the
answer carries an error in words that are safe to show (no password, no connection string).
"""

from __future__ import annotations

import dataclasses

import psycopg

from targets.engines.catalog import query
from targets.engines.connections import TargetConnection, TargetConnectionError

RELATION_LIMIT = 5000
STATEMENT_TIMEOUT_MS = 5000
KINDS = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view", "f": "foreign table"}


@dataclasses.dataclass
class CompletionCatalog:
    ok: bool
    schemas: dict[str, dict[str, dict]] = dataclasses.field(default_factory=dict)
    relation_count: int = 0
    limit: int = RELATION_LIMIT
    truncated: bool = False
    error: str = ""

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        if self.truncated:
            data["note"] = (f"Only the first {self.limit:,} relations are offered "
                            "(partitions last); qualify other names yourself.")
        return data


def read_completion_catalog(connection: TargetConnection, *, limit: int = RELATION_LIMIT,
                            statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> CompletionCatalog:
    """``{schema: {relation: {"kind": ..., "columns": [...]}}}`` of the target, at most ``limit`` relations."""
    try:
        with connection.read_only(statement_timeout_ms=statement_timeout_ms) as conn:
            rows = conn.execute(query("completion_relations"), {"limit": limit + 1}).fetchall()
    except TargetConnectionError as exc:
        return CompletionCatalog(ok=False, limit=limit, error=str(exc))
    except psycopg.Error as exc:
        sqlstate = getattr(exc, "sqlstate", None) or ""
        first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        return CompletionCatalog(ok=False, limit=limit,
                                 error=f"reading the catalog failed{f' ({sqlstate})' if sqlstate else ''}: {first}")
    truncated = len(rows) > limit
    schemas: dict[str, dict[str, dict]] = {}
    for schema, name, kind, columns in rows[:limit]:
        schemas.setdefault(schema, {})[name] = {"kind": KINDS.get(kind, kind), "columns": list(columns)}
    return CompletionCatalog(ok=True, schemas=schemas, relation_count=min(len(rows), limit), limit=limit,
                             truncated=truncated)
