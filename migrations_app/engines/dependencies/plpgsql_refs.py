"""Find the tables and columns a SQL or PL/pgSQL function body uses, with line numbers.

PostgreSQL does not track what a string function body (``AS $$ ... $$``) reads or writes, so
we parse it: SQL bodies with ``pglast.parse_sql``, PL/pgSQL bodies with ``pglast.parse_plpgsql``
and then every embedded SQL statement and expression with the SQL parser. Matching is on
parse-tree identifiers, never on substrings, so ``status`` does not match ``legacy_status``.
Line numbers are those PostgreSQL reports in its own errors (line 1 is the line the body
starts on, right after the opening dollar quote).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pglast
from pglast import parser as pg_parser

from migrations_app.engines.dependencies.plpgsql_cache import ParseCache
from migrations_app.engines.dependencies.plpgsql_declarations import (
    Declaration, arrays_of_unknown_types_as_text, neutralize, read_declarations,
)
from migrations_app.engines.dependencies.plpgsql_index import StatementFacts, reachable_names, statement_facts


class BodyParseError(Exception):
    """The body could not be parsed: the caller must not treat that as "no references"."""


@dataclass(frozen=True)
class TableTarget:
    """The relation we look for. ``accept_unqualified``: an unqualified name in the body
    resolves to this schema (it is on the function's search path)."""

    schema: str
    table: str
    accept_unqualified: bool = True


@dataclass(frozen=True)
class BodyReference:
    kind: str  # "column", "table", or "unknown" (dynamic SQL naming it that cannot be resolved)
    name: str  # column name, or schema.table
    line: int
    context: str  # the statement or expression text it was found in
    dynamic: bool = False  # found inside a string run by EXECUTE


def find_references(*, language: str, body: str, target: TableTarget, column: str | None,
                    signature: str = "", returns: str = "void", is_procedure: bool = False,
                    trigger_on_target: bool = False, row_arguments: tuple[str, ...] = (),
                    transition_tables: tuple[str, ...] = ()) -> list[BodyReference]:
    """References to ``target`` (and to ``column`` of it, if given) in a function body.

    ``signature`` and ``returns`` are ``pg_get_function_arguments`` / ``pg_get_function_result``:
    the PL/pgSQL parser needs them to know the argument variables and NEW/OLD.
    ``row_arguments``: names of arguments whose type is the target's row type.
    ``transition_tables``: the names a trigger on the target gives its old and new rows
    (``REFERENCING OLD TABLE AS oldtab``): in the body they are the target's rows.
    """
    names_table = may_mention(body, target.table)
    if not names_table and not (column and may_mention(body, column)):
        return []
    parsed = parsed_body(language, body, signature, returns, is_procedure)
    if target.table not in parsed.names and not trigger_on_target and not row_arguments \
            and not (names_table and parsed.has_unparsed_pieces):
        return []  # nothing in the parse can lead to the table (see ``reachable_names``)
    matcher = _Matcher(target, column, trigger_on_target, transition_tables if trigger_on_target else ())
    matcher.body_names_table = names_table
    # NEW and OLD of a trigger function are the row of the table the trigger is on: the
    # target's only through a trigger on it (trigger_on_target), never a record "filled from" it
    matcher.scan_declarations(parsed.declarations, row_arguments,
                              implicit=("new", "old") if returns.strip().lower() == "trigger" else ())
    for fragment in parsed.fragments:
        matcher.scan_fragment(fragment)
    if (matcher.row_vars or (matcher.records and matcher.table_seen)) and column is not None:
        # a record or row variable filled from the table: its fields are the table's columns
        for fragment in parsed.fragments:
            matcher.scan_fragment(fragment, row_fields_only=True)
    return matcher.found


# -- candidate test ------------------------------------------------------------------------

def _ident_char(char: str) -> bool:
    # PostgreSQL's lexer: letters, digits, _ and $ continue an identifier, and so does
    # every non-ASCII character.
    return not char.isascii() or char.isalnum() or char in "_$"


def may_mention(body: str, name: str) -> bool:
    """Can ``body`` name ``name`` as a whole identifier? A cheap, deliberately generous
    pre-test before parsing (``status`` inside ``legacy_status`` is not a mention). It
    errs towards yes: any case, quoted forms with doubled quotes, and any ``U&"..."``
    identifier (escapes can spell any name) count; only the parse decides."""
    text = body.lower()
    if 'u&"' in text:
        return True
    needle = name.lower()
    for form in {needle, needle.replace('"', '""'), needle.replace("'", "''")}:
        start = text.find(form)
        while start >= 0:
            end = start + len(form)
            if (start == 0 or not _ident_char(text[start - 1])) and (end == len(text) or not _ident_char(text[end])):
                return True
            start = text.find(form, start + 1)
    return False


# -- parse cache ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ParsedBody:
    fragments: tuple["Fragment", ...]
    declarations: tuple[Declaration, ...] = ()
    names: frozenset[str] = frozenset()  # every relation name the parse can reach (plpgsql_index)
    has_unparsed_pieces: bool = False  # dynamic SQL glued at run time, matched by text


def _parsed(fragments: tuple["Fragment", ...], declarations: tuple[Declaration, ...] = ()) -> ParsedBody:
    return ParsedBody(fragments, declarations,
                      reachable_names([facts for fragment in fragments for facts in fragment.facts], declarations),
                      any(fragment.unparsed_text is not None for fragment in fragments))


@dataclass(frozen=True)
class Fragment:
    """One SQL statement or expression of a body, parsed (``tree``), or the parser's
    complaint (``error``). Trees are shared through the cache: read them, never change them."""

    tree: dict | None
    raw: bytes
    line: int
    dynamic: bool
    error: str | None = None
    unparsed_text: str | None = None  # a dynamic SQL string that is not a whole statement
    facts: tuple[StatementFacts, ...] = ()  # what each statement names, read once (plpgsql_index)


PARSE_CACHE = ParseCache(budget_chars=2_000_000)


def parsed_fragments(language: str, body: str, signature: str = "", returns: str = "void",
                     is_procedure: bool = False) -> tuple[Fragment, ...]:
    """Every SQL fragment of the body, parsed once per distinct body (see ``ParseCache``)."""
    return parsed_body(language, body, signature, returns, is_procedure).fragments


def parsed_body(language: str, body: str, signature: str = "", returns: str = "void",
                is_procedure: bool = False) -> ParsedBody:
    """Fragments and declarations of the body, parsed once per distinct body."""
    key = (language, body, signature, returns, is_procedure)
    cached = PARSE_CACHE.get(key)
    if cached is None:
        try:
            if language == "sql":
                cached = _parsed((_parse_fragment(body, 1, False),))
            elif language == "plpgsql":
                cached = _plpgsql_body(body, signature, returns, is_procedure)
            else:
                raise BodyParseError(f"language {language!r} is not parsed")
        except BodyParseError as exc:
            cached = str(exc)  # a body that does not parse stays unparseable: remember that too
        PARSE_CACHE.put(key, cached)
    if isinstance(cached, str):
        raise BodyParseError(cached)
    return cached


def _parse_fragment(text: str, line: int, dynamic: bool) -> Fragment:
    raw = text.encode("utf-8")
    try:
        tree = json.loads(pg_parser.parse_sql_json(text))
        return Fragment(tree, raw, line, dynamic, facts=tuple(statement_facts(stmt) for stmt in tree.get("stmts", [])))
    except pglast.parser.ParseError as exc:
        return Fragment(None, raw, line, dynamic, error=f"{exc} in: {text[:120]}")


# -- PL/pgSQL ------------------------------------------------------------------------------

def _plpgsql_body(body: str, signature: str, returns: str, is_procedure: bool) -> ParsedBody:
    """Every SQL statement and expression in the body as (text, line, dynamic), and its declarations."""
    signature, mapping = neutralize(signature, declarations_only=False, prefix="a")
    returns, result_mapping = neutralize(returns, declarations_only=False, prefix="r")
    probe_body, body_mapping = neutralize(body, declarations_only=True)
    mapping.update(result_mapping)
    mapping.update(body_mapping)
    tag = "$dfbody$"
    while tag in probe_body:
        tag = tag[:-1] + "x$"
    head = f"CREATE PROCEDURE dataflow_probe({signature})" if is_procedure else \
        f"CREATE FUNCTION dataflow_probe({signature}) RETURNS {returns}"
    # Header and body start on the same line, so the parser's line numbers are body lines.
    statement = f"{head} LANGUAGE plpgsql AS {tag}{probe_body}{tag}"
    try:
        tree = pglast.parse_plpgsql(statement)
    except pglast.parser.ParseError as exc:
        if "_record" not in str(exc):
            raise BodyParseError(str(exc)) from None
        # an array of a type pglast does not know, declared or returned: see
        # arrays_of_unknown_types_as_text (the result type decides nothing either)
        if not is_procedure and returns.rstrip().endswith("]"):
            head = f"CREATE FUNCTION dataflow_probe({signature}) RETURNS text"
        try:
            tree = pglast.parse_plpgsql(f"{head} LANGUAGE plpgsql AS {tag}{arrays_of_unknown_types_as_text(probe_body)}{tag}")
        except pglast.parser.ParseError:
            raise BodyParseError(str(exc)) from None
    fragments = []
    for text, line, dynamic in _walk_plpgsql(tree, 1):
        if dynamic is None:  # a dynamic string that is not a statement: kept as text
            fragments.append(Fragment(None, text.encode("utf-8"), line, True, unparsed_text=text))
        else:
            fragments.append(_parse_fragment(text, line, dynamic))
    return _parsed(tuple(fragments), read_declarations(tree, mapping))


def _walk_plpgsql(node, line):
    if isinstance(node, list):
        for item in node:
            yield from _walk_plpgsql(item, line)
        return
    if not isinstance(node, dict):
        return
    if "lineno" in node and isinstance(node["lineno"], int):
        line = node["lineno"]
    for key, value in node.items():
        # RETURN QUERY EXECUTE runs a string too (a plain RETURN QUERY has no "dynquery")
        if key in ("PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors", "PLpgSQL_stmt_open") or (
                key == "PLpgSQL_stmt_return_query" and isinstance(value, dict) and value.get("dynquery")):
            inner_line = value.get("lineno", line)
            yield from _walk_plpgsql(value, inner_line)
            query = value.get("dynquery") if key == "PLpgSQL_stmt_return_query" else \
                value.get("query") or value.get("dynquery")
            if isinstance(query, dict) and "PLpgSQL_expr" in query:
                for literal, whole in _string_literals(_expr_as_select(query["PLpgSQL_expr"])):
                    yield literal, inner_line, True if whole else None
            continue
        if key == "PLpgSQL_expr" and isinstance(value, dict):
            yield _expr_as_select(value), line, False
            if value.get("parseMode", 0) >= 3:  # "NEW.col := ...": the target names a field too
                target = _assignment_target(value.get("query", ""))
                if target:
                    yield "SELECT " + target, line, False
            continue
        yield from _walk_plpgsql(value, line)  # declarations too: defaults and cursor queries


def _expr_as_select(expr: dict) -> str:
    query = expr.get("query", "")
    mode = expr.get("parseMode", 0)
    if mode == 0:  # a whole statement
        return query
    if mode >= 3:  # "target := expression": keep the expression
        query = _after_assignment(query)
    return "SELECT " + query


def _assignment_target(text: str) -> str | None:
    """``NEW.col`` of ``NEW.col := expression`` (None when there is no operator to split at)."""
    for token in pg_parser.scan(text):
        if token.name in ("COLON_EQUALS", "EQUALS_GREATER") or text[token.start:token.end + 1] == "=":
            return text[:token.start].strip() or None
    return None


def _after_assignment(text: str) -> str:
    for token in pg_parser.scan(text):
        if token.name in ("COLON_EQUALS", "EQUALS_GREATER") or text[token.start:token.end + 1] == "=":
            return text[token.end + 1:]
    return text


def _string_literals(sql_text: str) -> list[tuple[str, bool]]:
    """String constants of an EXECUTE expression, each with whether it is a whole statement
    (pieces glued together at run time are kept too: they are checked by name)."""
    try:
        tree = json.loads(pg_parser.parse_sql_json(sql_text))
    except pglast.parser.ParseError:
        return []
    found = []
    for node in _nodes(tree, "A_Const"):
        text = (node.get("sval") or {}).get("sval")
        if text:
            try:
                pg_parser.parse_sql_json(text)
            except pglast.parser.ParseError:
                found.append((text, False))
                continue
            found.append((text, True))
    return found


# -- SQL -----------------------------------------------------------------------------------

class _Matcher:
    def __init__(self, target: TableTarget, column: str | None, trigger_on_target: bool,
                 transition_tables: tuple[str, ...] = ()):
        self.target = target
        self.column = column
        self.trigger_on_target = trigger_on_target
        self.transition_tables = frozenset(transition_tables)
        self.found: list[BodyReference] = []
        self.row_vars: set[str] = set()
        self.records: set[str] = set()
        self.row_fields_only = False
        self.body_names_table = True
        self.table_seen = False  # some statement of the body reads or writes the table

    def scan_declarations(self, declarations, row_arguments, implicit: tuple[str, ...] = ()) -> None:
        """``x t%ROWTYPE``, ``x t.col%TYPE`` and ``x t`` declarations; row-typed arguments.
        ``implicit``: records the language declares itself (a trigger function's NEW and OLD)."""
        self.row_vars = {name for name in row_arguments if name}
        name = f"{self.target.schema}.{self.target.table}"
        for decl in declarations:
            if decl.is_record:
                if decl.name not in implicit:
                    self.records.add(decl.name)
                continue
            if decl.suffix == "type" and len(decl.parts) >= 2 and self._names_target(decl.parts[:-1]):
                if self.column is None or decl.parts[-1] == self.column:
                    self.found.append(BodyReference("column" if self.column else "table", self.column or name,
                                                    decl.line, f"{decl.name} {'.'.join(decl.parts)}%TYPE"))
            elif decl.suffix in ("rowtype", "") and decl.parts and self._names_target(decl.parts):
                self.row_vars.add(decl.name)
                if self.column is None:
                    self.found.append(BodyReference("table", name, decl.line,
                                                    f"{decl.name} {'.'.join(decl.parts)}%ROWTYPE"))

    def _names_target(self, parts) -> bool:
        if len(parts) == 1:
            return parts[0] == self.target.table and self.target.accept_unqualified
        return tuple(parts[-2:]) == (self.target.schema, self.target.table)

    def scan_fragment(self, fragment: Fragment, row_fields_only: bool = False) -> None:
        self.row_fields_only = row_fields_only
        if fragment.tree is None:
            if fragment.unparsed_text is not None:
                # pieces of dynamic SQL glued at run time: the parse cannot tell, so a piece
                # that names what is dropped is reported as unknown (fail closed)
                if not row_fields_only and self.body_names_table \
                        and may_mention(fragment.unparsed_text, self.column or self.target.table):
                    self.found.append(BodyReference("unknown", self.column or self.target.table, fragment.line,
                                                    fragment.unparsed_text, dynamic=True))
                return
            if fragment.dynamic:
                return
            raise BodyParseError(fragment.error)
        for facts in fragment.facts:
            self._scan_statement(facts, fragment.raw, fragment.line, fragment.dynamic)

    def _line(self, raw: bytes, location: int, base_line: int) -> int:
        return base_line + raw[:max(location, 0)].count(b"\n")

    def _scan_statement(self, facts: StatementFacts, raw: bytes, base_line: int, dynamic: bool) -> None:
        start = facts.start
        length = facts.length or len(raw) - start
        context = raw[start:start + length].decode("utf-8", "replace").strip()
        aliases: dict[str, bool] = {}  # name visible in the statement -> is it our table?
        target_seen = False
        if self.row_fields_only:
            self._scan_row_fields(facts, raw, base_line, start, dynamic)
            return
        for rv in facts.relations:
            ours = self._is_target(rv.schema, rv.name)
            aliases[rv.visible] = aliases.get(rv.visible, False) or ours
            if ours:
                target_seen = self.table_seen = True
                name = f"{self.target.schema}.{self.target.table}"
                if self.column is None:
                    self._add("table", name, raw, _at(rv.location, start), base_line, context, dynamic)
        if self.column is None:
            return
        for ref in facts.columns:
            if not ref.complete or not ref.fields or ref.fields[-1] != self.column:
                continue  # a star, or another column
            if self._column_ref_is_ours(list(ref.fields), aliases, target_seen):
                self._add("column", self.column, raw, _at(ref.location, start), base_line, context, dynamic)
        # Columns named by INSERT (...) lists, UPDATE SET and ON CONFLICT are not ColumnRefs.
        for written in facts.writes:
            if not self._is_target(written.relation.schema, written.relation.name):
                continue
            relation_at = _at(written.relation.location, start)
            if written.without_column_list:
                # INSERT without a column list fills every column by position
                self._add("column", self.column, raw, relation_at, base_line, context, dynamic)
            for name, location in written.items:
                if name == self.column:
                    self._add("column", self.column, raw, _at(location, relation_at), base_line, context, dynamic)

    def _scan_row_fields(self, facts: StatementFacts, raw, base_line, start, dynamic) -> None:
        """``r.col`` where ``r`` is a row variable of the table, or a record filled from it."""
        variables = self.row_vars | (self.records if self.table_seen else set())
        visible = {rv.visible for rv in facts.relations}
        context = raw[start:].decode("utf-8", "replace").strip()[:500]
        for ref in facts.columns:
            fields = ref.fields
            if len(fields) == 2 and fields[1] == self.column and fields[0] in variables and fields[0] not in visible:
                self._add("column", self.column, raw, _at(ref.location, start), base_line, context, dynamic)

    def _column_ref_is_ours(self, fields: list[str], aliases: dict[str, bool], target_seen: bool) -> bool:
        if len(fields) == 1:
            return target_seen
        qualifier = fields[-2]
        if len(fields) == 2 and self.trigger_on_target and qualifier.lower() in ("new", "old"):
            return True
        if len(fields) == 3:
            return fields[0] == self.target.schema and qualifier == self.target.table
        return aliases.get(qualifier, False)

    def _is_target(self, schema: str | None, name: str | None) -> bool:
        if schema is None and name in self.transition_tables:
            return True  # a transition table of a trigger on the target: its rows
        if name != self.target.table:
            return False
        return schema == self.target.schema if schema else self.target.accept_unqualified

    def _add(self, kind, name, raw, location, base_line, context, dynamic) -> None:
        self.found.append(BodyReference(kind, name, self._line(raw, location, base_line), context, dynamic))


def _at(location: int | None, default: int) -> int:
    return default if location is None else location


def _nodes(tree, kind: str):
    """Every node of the given kind anywhere below ``tree`` (parse trees as JSON)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == kind and isinstance(value, dict):
                    yield value
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
