"""PL/pgSQL declarations that name tables and columns: ``%ROWTYPE``, ``%TYPE`` and row-typed
variables and arguments.

pglast's PL/pgSQL parser resolves declared types, and can only resolve names in ``public`` or
``pg_catalog``: ``r app.orders%ROWTYPE`` or an argument of type ``app.orders`` make it refuse
the whole body. So before parsing, every schema-qualified name in a type position is replaced
by a placeholder identifier (same line, so line numbers are kept), and the declarations read
back from the parse tree are mapped to the names they really had.
"""

from __future__ import annotations

from dataclasses import dataclass

from pglast import parser as pg_parser

PLACEHOLDER = "dfqname"
_NAME_TOKENS = {"IDENT"}


@dataclass(frozen=True)
class Declaration:
    """A variable (or argument) and the type it was declared with: ``parts`` is the name as
    written (``("app", "orders")``), ``suffix`` is ``rowtype``, ``type`` or empty."""

    name: str
    parts: tuple[str, ...]
    suffix: str
    line: int
    is_record: bool = False


def identifier_text(token_text: str) -> str:
    if token_text.startswith('"') and token_text.endswith('"'):
        return token_text[1:-1].replace('""', '"')
    return token_text.lower()


def _name_run(text: str, tokens, i: int) -> int:
    """Index after the dotted name starting at token ``i`` (``a.b.c``)."""
    j = i + 1
    while j + 1 < len(tokens) and tokens[j].name == "ASCII_46" and tokens[j].start == tokens[j - 1].end + 1 \
            and (tokens[j + 1].name in _NAME_TOKENS or tokens[j + 1].kind != "NO_KEYWORD") \
            and tokens[j + 1].start == tokens[j].end + 1:
        j += 2
    return j


class _DeclareState:
    """Where a token stands in a PL/pgSQL body: inside a DECLARE section, and there inside an
    expression (a default, a cursor query) rather than a type."""

    def __init__(self):
        self.in_declare = self.expression = False

    def after(self, token) -> tuple[bool, bool]:
        if token.name == "DECLARE":
            self.in_declare, self.expression = True, False
        elif token.name == "BEGIN_P":
            self.in_declare = False
        elif token.name in ("COLON_EQUALS", "DEFAULT", "ASCII_61", "CURSOR", "FOR", "IS"):
            self.expression = True
        elif token.name == "ASCII_59":
            self.expression = False
        return self.in_declare, self.expression


def neutralize(text: str, *, declarations_only: bool, prefix: str = "b") -> tuple[str, dict[str, tuple[str, ...]]]:
    """``text`` with qualified type names replaced by placeholders, and the placeholder map.

    In a body (``declarations_only``) only names followed by ``%TYPE``/``%ROWTYPE`` and the
    types of DECLARE sections are replaced; in a signature or result type, every dotted name.
    """
    try:
        tokens = list(pg_parser.scan(text))
    except pg_parser.ParseError:
        return text, {}
    mapping: dict[str, tuple[str, ...]] = {}
    out, last = [], 0
    state = _DeclareState()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        in_declare, expression = state.after(token)
        if token.name in _NAME_TOKENS:
            end = _name_run(text, tokens, i)
            if end > i + 1:
                typed = end + 1 < len(tokens) and tokens[end].name == "ASCII_37" \
                    and text[tokens[end + 1].start:tokens[end + 1].end + 1].lower() in ("type", "rowtype")
                if not declarations_only or typed or (in_declare and not expression):
                    placeholder = f"{PLACEHOLDER}{prefix}{len(mapping) + 1}"
                    mapping[placeholder] = tuple(identifier_text(text[t.start:t.end + 1])
                                                 for t in tokens[i:end:2])
                    span = text[token.start:tokens[end - 1].end + 1]
                    out.append(text[last:token.start] + placeholder + "\n" * span.count("\n"))
                    last = tokens[end - 1].end + 1
                i = end
                continue
        i += 1
    out.append(text[last:])
    return "".join(out), mapping


def read_declarations(tree, mapping: dict[str, tuple[str, ...]]) -> tuple[Declaration, ...]:
    """Variables of the parsed function (its ``datums``) with the names their types had."""
    found = []
    for function in _functions(tree):
        for datum in function.get("datums", []):
            for key, value in datum.items():
                name, line = value.get("refname"), value.get("lineno", 0)
                if key == "PLpgSQL_rec" and name:
                    found.append(Declaration(name, (), "", line, is_record=True))
                elif key in ("PLpgSQL_var", "PLpgSQL_row") and name:
                    typname = ((value.get("datatype") or {}).get("PLpgSQL_type") or {}).get("typname")
                    if typname:
                        parts, suffix = _type_parts(typname, mapping)
                        found.append(Declaration(name, parts, suffix, line))
    return tuple(found)


def _functions(tree):
    for item in tree if isinstance(tree, list) else [tree]:
        if isinstance(item, dict) and "PLpgSQL_function" in item:
            yield item["PLpgSQL_function"]


def _type_parts(typname: str, mapping) -> tuple[tuple[str, ...], str]:
    name, _, suffix = typname.partition("%")
    try:
        tokens = [t for t in pg_parser.scan(name) if t.name != "ASCII_46"]
    except pg_parser.ParseError:
        return (), suffix.lower()
    parts: list[str] = []
    for token in tokens:
        text = name[token.start:token.end + 1]
        parts.extend(mapping.get(text, (identifier_text(text),)))
    return tuple(parts), suffix.lower()


def arrays_of_unknown_types_as_text(text: str) -> str:
    """``text`` with each ``name[]`` declared in a DECLARE section turned into ``text``.

    pglast resolves declared types against its own small catalog: an array of a type it does
    not know (``diff hstore[]``, an extension's type) becomes an array of ``record``, which
    it refuses ("pseudo-type _record"), and with it the whole body. What an array variable
    holds does not decide which tables and columns the body names, so on that refusal the
    body is parsed again with such declarations as ``text`` (same lines, same offsets after)."""
    try:
        tokens = list(pg_parser.scan(text))
    except pg_parser.ParseError:
        return text
    out, last = [], 0
    state = _DeclareState()
    for i, token in enumerate(tokens):
        in_declare, expression = state.after(token)
        if not in_declare or expression or token.name != "ASCII_91" or i == 0 or tokens[i - 1].name not in _NAME_TOKENS:
            continue
        close = next((j for j in range(i + 1, len(tokens)) if tokens[j].name == "ASCII_93"), None)
        if close is None or tokens[i - 1].start < last:
            continue
        start, end = tokens[i - 1].start, tokens[close].end + 1
        span = text[start:end]
        out.append(text[last:start] + "text" + " " * max(0, len(span) - 4 - span.count("\n")) + "\n" * span.count("\n"))
        last = end
    out.append(text[last:])
    return "".join(out)
