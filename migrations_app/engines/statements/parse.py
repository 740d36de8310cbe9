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
from bisect import bisect_left, bisect_right

try:  # the same dicts, lists, strings and ints as json.loads, about 1.5x faster on parse trees: the
    # parser writes no floats (a Float node's value is a string) and no integer beyond 64 bits, the two
    # places where orjson would read a number differently
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson is in requirements.txt
    _loads = json.loads

from pglast import parser as pg_parser

from migrations_app.engines.statements import pg_facts as facts
from migrations_app.engines.statements.kinds import describe_node
from migrations_app.engines.statements.input import check_no_nul
from migrations_app.engines.statements.policy import judge
from migrations_app.engines.statements.model import AnalysisEnv, RawStatement, SqlSyntaxError, StatementInfo


def split_script(sql_text: str) -> list[RawStatement]:
    """Parse ``sql_text`` into raw statements (parse tree, exact text, start line).

    Refuses NUL characters first (the parser reads a C string and would silently stop there).
    The parser reports statement locations in UTF-8 bytes; they are mapped back to characters."""
    check_no_nul(sql_text)
    try:
        tree = _tree(pg_parser.parse_sql_json(sql_text))
    except pg_parser.ParseError as exc:
        message = exc.args[0] if exc.args else str(exc)
        location = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else len(sql_text)
        line, position = _line_and_position(sql_text, location)
        raise SqlSyntaxError(message, line, position) from None
    raw: list[RawStatement] = []
    line_starts = _line_starts(sql_text)
    to_char = _byte_to_char(sql_text)
    for entry in tree.get("stmts", []):
        start = entry.get("stmt_location", 0)
        length = entry.get("stmt_len", 0)
        end = to_char(start + length) if length else len(sql_text)
        start = to_char(start)
        text = sql_text[start:end]
        lead = _leading_noise(text)
        text = text[lead:].rstrip().rstrip(";").rstrip()
        offset = start + lead
        raw.append(RawStatement(entry["stmt"], text, _line_of(line_starts, offset), offset))
    return raw


def _tree(document: str) -> dict:
    try:
        return _loads(document)
    except ValueError:  # whatever orjson declines, the standard library reads (or reports) as before
        return json.loads(document)


def _byte_to_char(text: str):
    """Maps a UTF-8 byte offset of ``text`` to its character offset (identity for ASCII)."""
    if text.isascii():
        return lambda offset: offset
    starts = []
    position = 0
    for ch in text:
        starts.append(position)
        position += len(ch.encode("utf-8", "surrogatepass"))
    starts.append(position)
    return lambda offset: bisect_left(starts, offset)


def parse_script(sql_text: str, env: AnalysisEnv | None = None) -> list[StatementInfo]:
    """Statements of ``sql_text`` with their facts. Raises ``SqlSyntaxError``."""
    env = env or AnalysisEnv()
    return [describe(raw, env, index) for index, raw in enumerate(split_script(sql_text))]


def describe(raw: RawStatement, env: AnalysisEnv, index: int = 0) -> StatementInfo:
    info = _facts(raw, env, index)
    judged = judge(raw.node, raw.sql)
    info.verdicts = judged.verdicts
    for executed in judged.executed:
        if executed is None:  # EXECUTE of text built at run time
            info.details["dynamic_sql"] = True
            info.destroys_data = True
            continue
        node, text, _where = executed
        inner = _facts(RawStatement(node, text, raw.line, raw.offset), env, index)
        info.inner.append(inner)
        _merge_inner(info, inner)
    return info


def _facts(raw: RawStatement, env: AnalysisEnv, index: int) -> StatementInfo:
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


def _merge_inner(info: StatementInfo, inner: StatementInfo) -> None:
    """A DO block does what its statements do: their locks, data loss, rewrites and scans."""
    info.objects.extend(inner.objects)
    info.lock_mode = facts.strictest(info.lock_mode, inner.lock_mode)
    info.destroys_data = info.destroys_data or inner.destroys_data
    info.rewrites_table = info.rewrites_table or inner.rewrites_table
    info.scans_table = info.scans_table or inner.scans_table
    info.transactional = info.transactional and inner.transactional
    if info.table is None and inner.table:
        info.schema, info.table, info.column = inner.schema, inner.table, inner.column


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
