"""The statement policy: each statement is allowed, allowed with a finding and a risk floor, or
refused with a reason. Enforced at authoring (forms), analysis (review, CLI) and again in the
executor, on the forward SQL and the rollback SQL alike.

What is judged is the whole statement: its node type, every function it calls anywhere (defaults,
views, rules, sub-queries), the statements inside a ``DO`` block or a routine body (parsed with
PostgreSQL's PL/pgSQL parser), and the text of ``EXECUTE`` when it is a constant (parsed and
judged as if it were written at top level). Dynamic SQL whose text is not a constant cannot be
reviewed: a finding with a HIGH floor, and it counts as destroying data.

The lists (refused statements, settings, functions, languages) live in ``policy_lists``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pglast
from pglast import parser as pg_parser

from migrations_app.engines.statements import policy_lists as lists
from migrations_app.engines.statements.nodes import one_node, string_values

MAX_DEPTH = 6
REFUSE, FINDING = "refuse", "finding"


@dataclass
class PolicyVerdict:
    decision: str               # "refuse" | "finding"
    rule: str                   # kebab-case id
    reason: str
    floor: str | None = None    # findings: the lowest risk level the plan can have
    where: str = ""             # "" at top level, else e.g. "DO block, line 3"

    @property
    def refused(self) -> bool:
        return self.decision == REFUSE

    def text(self) -> str:
        return f"{self.reason}" + (f" ({self.where})" if self.where else "")

    def to_dict(self) -> dict:
        return {"decision": self.decision, "rule": self.rule, "reason": self.reason, "floor": self.floor,
                "where": self.where}


class StatementRefused(Exception):
    """Raised by ``enforce``: the message lists every refused statement and why."""

    def __init__(self, refusals: list[tuple[int, str, PolicyVerdict]]):
        self.refusals = refusals
        lines = [f"line {line}: {verdict.text()}" for line, _sql, verdict in refusals]
        super().__init__("refused by the statement policy: " + "; ".join(lines))


@dataclass
class Judged:
    """What judging one statement found: verdicts, and the statements that run *now* inside it
    (a DO block's statements and constant EXECUTE strings), as (node, sql text, line offset)."""

    verdicts: list
    executed: list


def judge_existing_bodies(functions) -> dict[str, list[PolicyVerdict]]:
    """Verdicts on the bodies of functions that already exist on the target and that the plan
    calls (``functions``: rows of schema_name, function_name, language, source, definition):
    calling a function runs its body, so it is judged like a DO block. By function name."""
    verdicts: dict[str, list[PolicyVerdict]] = {}
    for row in functions:
        name, language = row["function_name"], row["language"]
        where = f"body of the existing function {row['schema_name']}.{name}, which the statement calls"
        out = Judged([], [])
        if language in lists.REFUSED_LANGUAGES:
            out.verdicts.append(PolicyVerdict(FINDING, "unreviewed-body", f"calls an existing function in language "
                                              f"{language}: its body is not reviewed", "HIGH", where))
        else:
            _judge_body(language, row["source"], row["definition"] if language == "plpgsql" else None, where, 1, out,
                        runs_now=True)
        verdicts.setdefault(name.lower(), []).extend(out.verdicts)
    return verdicts


def called_function_names(node) -> set[str]:
    """Names of every function a parse tree calls (lower case, without schema)."""
    names, stack = set(), [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            call = item.get("FuncCall")
            if call is not None:
                parts = string_values(call.get("funcname"))
                if parts:
                    names.add(parts[-1].lower())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return names


def judge(node: dict, sql_text: str) -> Judged:
    out = Judged([], [])
    _judge_statement(node, sql_text, "", 0, out, runs_now=True)
    return out


# -- one statement ----------------------------------------------------------------------------

def _judge_statement(node: dict, sql_text: str, where: str, depth: int, out: Judged, *, runs_now: bool) -> None:
    ntype, body = one_node(node)
    if depth > MAX_DEPTH:
        out.verdicts.append(PolicyVerdict(REFUSE, "nesting-too-deep", "statements nested more than "
                                          f"{MAX_DEPTH} levels deep (DO / EXECUTE) cannot be reviewed", where=where))
        return
    add = out.verdicts.append
    if ntype == "CopyStmt":
        add(_copy_verdict(body, where))
    elif ntype in lists.REFUSED_NODE_TYPES:
        rule = "transaction-control" if ntype == "TransactionStmt" else "outside-the-plan"
        add(PolicyVerdict(REFUSE, rule, lists.REFUSED_NODE_TYPES[ntype], where=where))
    elif ntype == "VariableSetStmt":
        _judge_set(body, where, add)
    elif ntype == "DoStmt":
        language, source = _do_parts(body)
        _judge_body(language, source, None, f"{where + ', ' if where else ''}DO block", depth, out, runs_now=runs_now)
    elif ntype == "CreateFunctionStmt":
        _judge_routine(body, sql_text, where, depth, out)
    elif ntype in lists.FOREIGN_NODE_TYPES:
        refused = _refused_fdw_options(body)
        if refused:
            add(PolicyVerdict(REFUSE, "server-files", refused, where=where))
        else:
            add(PolicyVerdict(FINDING, "foreign-data-access", "reaches outside the database through a foreign "
                              "server: review the server, its options and user mappings by hand", "HIGH", where))
    elif ntype == "CreateExtensionStmt":
        add(PolicyVerdict(FINDING, "create-extension", f"CREATE EXTENSION {body.get('extname')} runs the "
                          "extension's install script, which the review does not see", "MEDIUM", where))
    elif ntype == "CallStmt":
        add(PolicyVerdict(FINDING, "procedure-call", "CALL runs a procedure whose body is not part of this plan",
                          "MEDIUM", where))
    elif ntype == "ExplainStmt":
        _judge_statement(body.get("query") or {}, sql_text, where, depth, out, runs_now=runs_now)
    elif ntype in ("VacuumStmt", "ClusterStmt"):
        full = ntype == "ClusterStmt" or any(one_node(o)[1].get("defname") == "full" for o in body.get("options", []))
        if full and (ntype == "ClusterStmt" or body.get("is_vacuumcmd")):
            add(PolicyVerdict(FINDING, "full-table-rewrite", f"{'CLUSTER' if ntype == 'ClusterStmt' else 'VACUUM FULL'} "
                              "rewrites the whole table under ACCESS EXCLUSIVE: reads and writes wait until it ends",
                              "MEDIUM", where))
    if ntype in _DEFINES_BY_NAME:
        named = _refused_names(body)
        if named:
            add(PolicyVerdict(REFUSE, "refused-function", f"{named}() {lists.REFUSED_FUNCTIONS[named]} (named as "
                              "the support function of an aggregate, operator, cast or similar)", where=where))
    if ntype in ("SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt") and _modifying_cte(body):
        add(PolicyVerdict(FINDING, "data-modifying-cte", "a WITH clause inserts, updates or deletes rows: the "
                          "statement changes data that its top-level kind does not show", "HIGH", where))
    _judge_calls(node, where, add)


# Statements that name functions the server will call later (not FuncCall nodes): CREATE AGGREGATE
# (sfunc, finalfunc), CREATE OPERATOR (function), CREATE CAST (WITH FUNCTION), ...
_DEFINES_BY_NAME = {"DefineStmt", "CreateCastStmt", "CreateOpClassStmt", "CreateTransformStmt",
                    "CreateConversionStmt", "AlterOperatorStmt", "CreateEventTrigStmt"}


def _refused_names(body: dict) -> str | None:
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            value = item.get("sval")
            if isinstance(value, str) and value.lower() in lists.REFUSED_FUNCTIONS:
                return value.lower()
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _copy_verdict(body: dict, where: str) -> PolicyVerdict:
    if body.get("is_program"):
        return PolicyVerdict(REFUSE, "copy-program", "COPY ... PROGRAM runs a shell command on the database server",
                             where=where)
    if body.get("filename"):
        return PolicyVerdict(REFUSE, "server-files", "COPY to or from a file reads or writes the database server's "
                             "file system", where=where)
    return PolicyVerdict(REFUSE, "copy-stdio", "COPY FROM STDIN / TO STDOUT needs a client data stream the executor "
                         "does not provide: load data with INSERT ... SELECT", where=where)


def _judge_set(body: dict, where: str, add) -> None:
    kind, name = body.get("kind"), (body.get("name") or "").lower()
    if kind == "VAR_RESET_ALL":
        add(PolicyVerdict(REFUSE, "guard-setting", "RESET ALL resets the executor's lock_timeout and "
                          "statement_timeout", where=where))
    elif kind == "VAR_SET_MULTI":
        add(PolicyVerdict(REFUSE, "transaction-control", f"SET {body.get('name')} changes the transaction or "
                          "session mode the executor relies on", where=where))
    elif name in lists.GUARDED_SETTINGS:
        verb = "RESET" if kind == "VAR_RESET" else "SET"
        add(PolicyVerdict(REFUSE, "guard-setting", f"{verb} {name}: {lists.GUARDED_SETTINGS[name]}", where=where))


def _judge_calls(node, where: str, add) -> None:
    """Every function call anywhere in the tree (sub-queries, defaults, views, rule actions), and
    every setting a routine carries (`CREATE FUNCTION ... SET statement_timeout = 0`, `ALTER FUNCTION
    ... SET lock_timeout = 0`: the guard is off while the migration calls it)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            call = item.get("FuncCall")
            if call is not None:
                _judge_call(call, where, add)
            nested = item.get("VariableSetStmt")
            if nested is not None and item is not node:
                _judge_set(nested, where, add)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _judge_call(call: dict, where: str, add) -> None:
    names = string_values(call.get("funcname"))
    name = names[-1].lower() if names else ""
    if name in lists.REFUSED_FUNCTIONS:
        add(PolicyVerdict(REFUSE, "refused-function", f"{name}() {lists.REFUSED_FUNCTIONS[name]}", where=where))
    elif name == "set_config":
        args = call.get("args") or []
        kind, const = one_node(args[0]) if args else ("", {})
        setting = ((const.get("sval") or {}).get("sval") or "").lower() if kind == "A_Const" else None
        if setting is None:
            add(PolicyVerdict(REFUSE, "guard-setting", "set_config() with a setting name that is not a constant "
                              "cannot be reviewed", where=where))
        elif setting in lists.GUARDED_SETTINGS:
            add(PolicyVerdict(REFUSE, "guard-setting", f"set_config('{setting}'): {lists.GUARDED_SETTINGS[setting]}",
                              where=where))


def _modifying_cte(body: dict) -> bool:
    for cte in (body.get("withClause") or {}).get("ctes", []):
        inner = one_node(cte)[1].get("ctequery") or {}
        kind = one_node(inner)[0]
        if kind in ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt") or (kind and _modifying_cte(inner[kind])):
            return True
    return False


def _refused_fdw_options(body: dict) -> str | None:
    stack = [body.get("options") or [], body.get("base", {}).get("options") or []]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            elem = item.get("DefElem")
            if elem and (elem.get("defname") or "").lower() in lists.REFUSED_FDW_OPTIONS:
                return f"foreign-data option {elem['defname']!r} {lists.REFUSED_FDW_OPTIONS[elem['defname'].lower()]}"
            stack.extend(item.values())
    return None


# -- bodies -----------------------------------------------------------------------------------

def _do_parts(body: dict) -> tuple[str, str]:
    language, source = "plpgsql", ""
    for arg in body.get("args", []):
        elem = one_node(arg)[1]
        if elem.get("defname") == "language":
            language = (one_node(elem.get("arg"))[1].get("sval") or "").lower()
        elif elem.get("defname") == "as":
            source = one_node(elem.get("arg"))[1].get("sval") or ""
    return language, source


def _judge_routine(body: dict, sql_text: str, where: str, depth: int, out: Judged) -> None:
    language, source = "sql", None
    for option in body.get("options", []):
        elem = one_node(option)[1]
        if elem.get("defname") == "language":
            language = (one_node(elem.get("arg"))[1].get("sval") or "").lower()
        elif elem.get("defname") == "as":
            parts = string_values(one_node(elem.get("arg"))[1].get("items"))
            source = parts[0] if len(parts) == 1 else None
    label = f"{where + ', ' if where else ''}body of {'.'.join(string_values(body.get('funcname')))}"
    if body.get("sql_body") is not None:  # BEGIN ATOMIC / RETURN: already a parse tree
        for stmt in _sql_body_statements(body["sql_body"]):
            _judge_statement(stmt, "", label, depth + 1, out, runs_now=False)
        return
    _judge_body(language, source, sql_text if language == "plpgsql" else None, label, depth, out, runs_now=False)


def _sql_body_statements(sql_body: dict) -> list[dict]:
    found = []
    stack = [sql_body]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            kind = one_node(item)[0]
            if kind.endswith("Stmt"):
                found.append(item)
            elif kind:
                stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _judge_body(language: str, source: str | None, create_sql: str | None, where: str, depth: int,
                out: Judged, *, runs_now: bool) -> None:
    """A DO block or routine body. ``create_sql``: the CREATE FUNCTION text (PL/pgSQL needs the
    signature to know the parameters); None for a DO block, which is wrapped."""
    add = out.verdicts.append
    if language in lists.REFUSED_LANGUAGES:
        add(PolicyVerdict(REFUSE, "refused-language", f"language {language} can reach the server's operating "
                          "system or load native code", where=where))
        return
    if language not in lists.PARSED_LANGUAGES or source is None:
        add(PolicyVerdict(FINDING, "unreviewed-body", f"a body in language {language or '?'} is not parsed: "
                          "review it by hand", "HIGH", where))
        return
    if language == "sql":
        _judge_sql_text(source, where, depth + 1, out, runs_now=runs_now)
        return
    try:
        tree = pglast.parse_plpgsql(create_sql or _wrap_do(source))
    except pg_parser.ParseError as exc:
        add(PolicyVerdict(REFUSE, "unparsable-body", f"the PL/pgSQL body does not parse ({exc}), so it cannot "
                          "be reviewed", where=where))
        return
    _walk_plpgsql(tree, where, depth, out, runs_now, line=1)


def _wrap_do(source: str) -> str:
    tag = "$dataflow_do$"
    while tag in source:
        tag = tag[:-1] + "x$"
    return f"CREATE FUNCTION dataflow_do() RETURNS void LANGUAGE plpgsql AS {tag}{source}{tag}"


_DYNAMIC = {"PLpgSQL_stmt_dynexecute": "query", "PLpgSQL_stmt_dynfors": "query",
            "PLpgSQL_stmt_open": "dynquery", "PLpgSQL_stmt_return_query": "dynquery"}


def _walk_plpgsql(node, where: str, depth: int, out: Judged, runs_now: bool, line: int) -> None:
    if isinstance(node, list):
        for item in node:
            _walk_plpgsql(item, where, depth, out, runs_now, line)
        return
    if not isinstance(node, dict):
        return
    line = node.get("lineno", line) if isinstance(node.get("lineno"), int) else line
    for key, value in node.items():
        here = f"{where}, line {line}"
        if key in ("PLpgSQL_stmt_commit", "PLpgSQL_stmt_rollback"):
            out.verdicts.append(PolicyVerdict(REFUSE, "transaction-control", "COMMIT/ROLLBACK inside a DO block or "
                                              "procedure ends the executor's transaction", where=here))
        if key in _DYNAMIC and isinstance(value, dict):
            inner_line = value.get("lineno", line)
            query = value.get(_DYNAMIC[key])
            if isinstance(query, dict) and "PLpgSQL_expr" in query:
                _judge_dynamic(query["PLpgSQL_expr"], f"{where}, EXECUTE at line {inner_line}", depth, out, runs_now)
            _walk_plpgsql({k: v for k, v in value.items() if k != _DYNAMIC[key]}, where, depth, out, runs_now,
                          inner_line)
            continue
        if key == "PLpgSQL_expr" and isinstance(value, dict):
            _judge_expr(value, here, depth, out, runs_now)
            continue
        _walk_plpgsql(value, where, depth, out, runs_now, line)


def _expr_sql(expr: dict) -> tuple[str, bool]:
    """(SQL text, is a whole statement) of a PL/pgSQL expression."""
    text = expr.get("query", "")
    mode = expr.get("parseMode", 0)
    if mode == 0:
        return text, True
    if mode >= 3:  # "target := expression"
        index = text.find(":=")
        text = text[index + 2:] if index >= 0 else text.split("=", 1)[-1]
    return f"SELECT {text}", False


def _judge_expr(expr: dict, where: str, depth: int, out: Judged, runs_now: bool) -> None:
    text, statement = _expr_sql(expr)
    _judge_sql_text(text, where, depth + 1 if statement else depth, out, runs_now=runs_now and statement,
                    expression=not statement)


def _judge_dynamic(expr: dict, where: str, depth: int, out: Judged, runs_now: bool) -> None:
    text, _ = _expr_sql({**expr, "parseMode": 2})
    try:
        tree = json.loads(pg_parser.parse_sql_json(text))
    except pg_parser.ParseError as exc:
        out.verdicts.append(PolicyVerdict(REFUSE, "unparsable-body", f"EXECUTE argument does not parse ({exc})",
                                          where=where))
        return
    target = one_node(tree["stmts"][0]["stmt"])[1]["targetList"][0]["ResTarget"]["val"]
    kind, const = one_node(target)
    constant = (const.get("sval") or {}).get("sval") if kind == "A_Const" else None
    if constant is None:
        out.verdicts.append(PolicyVerdict(FINDING, "dynamic-sql", "EXECUTE of SQL text built at run time: the "
                                          "statement it runs cannot be reviewed (and may destroy data)", "HIGH", where))
        _judge_calls(tree, where, out.verdicts.append)
        if runs_now:
            out.executed.append(None)  # unknown statement: counts as destroying data
        return
    _judge_sql_text(constant, where, depth + 1, out, runs_now=runs_now)


def _judge_sql_text(text: str, where: str, depth: int, out: Judged, *, runs_now: bool, expression=False) -> None:
    if "\x00" in text:
        out.verdicts.append(PolicyVerdict(REFUSE, "unparsable-body", "embedded SQL contains a NUL byte", where=where))
        return
    try:
        tree = json.loads(pg_parser.parse_sql_json(text))
    except pg_parser.ParseError as exc:
        out.verdicts.append(PolicyVerdict(REFUSE, "unparsable-body", f"embedded SQL does not parse ({exc}), so it "
                                          "cannot be reviewed", where=where))
        return
    for entry in tree.get("stmts", []):
        if expression:
            _judge_calls(entry["stmt"], where, out.verdicts.append)
            continue
        start, length = entry.get("stmt_location", 0), entry.get("stmt_len", 0)
        raw = text.encode("utf-8")
        stmt_text = (raw[start:start + length] if length else raw[start:]).decode("utf-8").strip()
        _judge_statement(entry["stmt"], stmt_text, where, depth, out, runs_now=runs_now)
        if runs_now and one_node(entry["stmt"])[0] != "DoStmt":
            out.executed.append((entry["stmt"], stmt_text, where))
