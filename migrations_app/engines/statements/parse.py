"""Statement analysis: parse a SQL script with pglast (the PostgreSQL parser) into ``StatementInfo``s.

Each statement gets its runbook operation type (``kind``), the objects it touches, the lock
mode it takes on each table (strictest subcommand wins), and whether it rewrites or scans the
table, can run inside a transaction block, and destroys data. The parse tree is read as the
JSON pglast produces, which is several times faster to build than pglast's node objects on
large scripts.

Facts that depend on the server (function volatility for ``ADD COLUMN ... DEFAULT``, version)
come from an ``AnalysisEnv``; without a database the env holds a known list and says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pglast import parser as pg_parser

from migrations_app.engines import statement_facts as facts
from migrations_app.engines.statement_kinds import describe_node

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
        }


def _jsonable(value):
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


def split_script(sql_text: str) -> list[RawStatement]:
    """Parse ``sql_text`` into raw statements (parse tree, exact text, start line)."""
    try:
        tree = json.loads(pg_parser.parse_sql_json(sql_text))
    except pg_parser.ParseError as exc:
        message = exc.args[0] if exc.args else str(exc)
        location = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else len(sql_text)
        line, position = _line_and_position(sql_text, location)
        raise SqlSyntaxError(message, line, position) from None
    raw: list[RawStatement] = []
    line_starts = _line_starts(sql_text)
    for entry in tree.get("stmts", []):
        start = entry.get("stmt_location", 0)
        length = entry.get("stmt_len", 0)
        text = sql_text[start:start + length] if length else sql_text[start:]
        lead = _leading_noise(text)
        text = text[lead:].rstrip().rstrip(";").rstrip()
        offset = start + lead
        raw.append(RawStatement(entry["stmt"], text, _line_of(line_starts, offset), offset))
    return raw


def parse_script(sql_text: str, env: AnalysisEnv | None = None) -> list[StatementInfo]:
    """Statements of ``sql_text`` with their facts. Raises ``SqlSyntaxError``."""
    env = env or AnalysisEnv()
    return [describe(raw, env, index) for index, raw in enumerate(split_script(sql_text))]


def describe(raw: RawStatement, env: AnalysisEnv, index: int = 0) -> StatementInfo:
    info = StatementInfo(sql=raw.sql, line=raw.line, kind="OTHER", index=index, node=raw.node)
    describe_node(info, raw.node, env)
    if info.objects and info.table is None:
        first = info.objects[0]
        info.schema, info.table = first.schema, first.table
        if first.columns and info.column is None:
            info.column = first.columns[0]
    if info.lock_mode is None and info.objects:
        info.lock_mode = facts.strictest(*(o.lock_mode for o in info.objects))
    return info


def default_function_names(raws: list[RawStatement]) -> set[str]:
    """Names of functions called in ADD COLUMN / SET DEFAULT expressions (to look up volatility)."""
    names: set[str] = set()
    for raw in raws:
        body = raw.node.get("AlterTableStmt")
        if not body:
            continue
        for cmd in body.get("cmds", []):
            spec = cmd.get("AlterTableCmd", {})
            _collect_funcs(spec.get("def"), names)
    return names


def _collect_funcs(node, names: set[str]) -> None:
    if isinstance(node, dict):
        call = node.get("FuncCall")
        if call:
            parts = [p["String"]["sval"] for p in call.get("funcname", []) if "String" in p]
            if parts:
                names.add(parts[-1].lower())
        for value in node.values():
            _collect_funcs(value, names)
    elif isinstance(node, list):
        for item in node:
            _collect_funcs(item, names)


# -- positions ----------------------------------------------------------------------------

def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    pos = find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = find("\n", pos + 1)
    return starts


def _line_of(starts: list[int], offset: int) -> int:
    from bisect import bisect_right

    return bisect_right(starts, offset)


def _line_and_position(text: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    return line, offset - line_start + 1


def _leading_noise(text: str) -> int:
    """Length of leading whitespace and comments, so a statement's line is its first token's."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end == -1 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end == -1 else end + 2
        else:
            break
    return i
