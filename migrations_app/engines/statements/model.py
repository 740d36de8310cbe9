"""The statement model's value objects: ``StatementInfo`` (one statement and its facts),
``TouchedObject``, ``RawStatement`` and the ``AnalysisEnv`` the facts depend on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from migrations_app.engines.statements import pg_facts as facts

STATIC_SERVER_VERSION = 150000


class SqlSyntaxError(Exception):
    """The script does not parse. ``line`` is 1-based in the whole script, ``position`` 1-based in the line."""

    def __init__(self, message: str, line: int, position: int):
        super().__init__(f"{message} (line {line}, position {position})")
        self.message = message
        self.line = line
        self.position = position


@dataclass
class AnalysisEnv:
    """What the analysis knows about the server. ``volatility`` maps function name -> 'i'/'s'/'v'."""

    server_version_num: int = STATIC_SERVER_VERSION
    volatility: dict[str, str] = field(default_factory=lambda: dict(facts.KNOWN_VOLATILITY))
    live: bool = False
    default_schema: str = "public"

    def function_volatility(self, name: str) -> str | None:
        return self.volatility.get(name.lower())


@dataclass
class TouchedObject:
    schema: str | None
    table: str
    columns: list[str] = field(default_factory=list)
    lock_mode: str | None = None
    relkind: str = "table"   # table, index, view, type, sequence, schema, database

    def to_dict(self) -> dict:
        return {"schema": self.schema, "table": self.table, "columns": list(self.columns),
                "lock_mode": self.lock_mode, "relkind": self.relkind}


@dataclass
class StatementInfo:
    sql: str
    line: int
    kind: str
    objects: list[TouchedObject] = field(default_factory=list)
    schema: str | None = None
    table: str | None = None
    column: str | None = None
    lock_mode: str | None = None
    rewrites_table: bool = False
    scans_table: bool = False
    transactional: bool = True
    destroys_data: bool = False
    node_type: str = ""
    subcommands: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    index: int = 0
    node: dict = field(default_factory=dict, repr=False, compare=False)
    # statement policy: refusals and findings (``policy.PolicyVerdict``)
    verdicts: list = field(default_factory=list)
    # statements that run *now* inside this one (a DO block's, a constant EXECUTE string's)
    inner: list["StatementInfo"] = field(default_factory=list)

    @property
    def refusals(self) -> list:
        return [v for v in self.verdicts if v.refused]

    @property
    def reversible(self) -> bool:
        """Whether rollback SQL can restore what it changed: not when it destroys data (a backup
        taken before it can; see ``rollback.plans``) or runs SQL the review could not read."""
        return not self.destroys_data and not self.details.get("dynamic_sql")

    @property
    def blocks_writes(self) -> bool:
        return self.lock_mode in facts.WRITE_BLOCKING

    @property
    def blocks_reads(self) -> bool:
        return self.lock_mode in facts.READ_BLOCKING

    @property
    def qualified_table(self) -> str | None:
        if not self.table:
            return None
        return f"{self.schema}.{self.table}" if self.schema else self.table

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "sql": self.sql,
            "line": self.line,
            "kind": self.kind,
            "schema": self.schema,
            "table": self.table,
            "column": self.column,
            "lock": self.lock_mode,
            "lock_mode": self.lock_mode,
            "rewrites_table": self.rewrites_table,
            "scans_table": self.scans_table,
            "transactional": self.transactional,
            "destroys_data": self.destroys_data,
            "objects": [o.to_dict() for o in self.objects],
            "subcommands": list(self.subcommands),
            # raw parse-tree expressions stay internal; everything else is plain data
            "details": _jsonable({k: v for k, v in self.details.items() if not k.endswith("_expr")}),
            "notes": list(self.notes),
            "policy": [v.to_dict() for v in self.verdicts],
            "inner": [{"sql": i.sql, "kind": i.kind, "lock_mode": i.lock_mode, "destroys_data": i.destroys_data}
                      for i in self.inner],
        }


def _jsonable(value):
    kind = type(value)  # the common exact types first (15,000 statements' details on a large plan)
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): _jsonable(v) for k, v in value.items()}
    if kind is list:
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclass
class RawStatement:
    node: dict
    sql: str
    line: int
    offset: int
