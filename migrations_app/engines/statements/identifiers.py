"""Readable SQL text for names and values shown to people and run as written (suggested SQL,
rollback steps, rename scripts): quoted only where PostgreSQL needs it. SQL the engines execute
themselves is composed with ``psycopg.sql`` instead.

The quoting is written out here (what ``psycopg.sql.Identifier(...).as_string(None)`` and
``sql.Literal(...).as_string(None)`` write, which a test compares) so that the static lint path
does not import psycopg and libpq for it; text holding a NUL is left to psycopg, which refuses it."""

import re

from pglast import keywords

_KEYWORDS = {k.lower() for k in (keywords.RESERVED_KEYWORDS | keywords.TYPE_FUNC_NAME_KEYWORDS
                                  | keywords.COL_NAME_KEYWORDS)}
_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")


def ident(*parts: str | None) -> str:
    """Identifier chain quoted only where PostgreSQL needs it; empty parts are left out."""
    return ".".join(p if _PLAIN.fullmatch(p) and p not in _KEYWORDS else quote_ident(p) for p in parts if p)


def quote_ident(name: str) -> str:
    """``"name"`` with embedded double quotes doubled (psycopg's ``sql.Identifier`` off-line)."""
    if "\x00" in name:
        from psycopg import sql

        return sql.Identifier(name).as_string(None)
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A string constant as psycopg's ``sql.Literal`` writes it off-line: ``'it''s'``, or `` E'a\\\\b'``
    (leading space included) when it holds a backslash, which may not be read literally then."""
    if "\x00" in value or not isinstance(value, str):
        from psycopg import sql

        return sql.Literal(value).as_string(None)
    quoted = value.replace("'", "''")
    if "\\" in quoted:
        return " E'" + quoted.replace("\\", "\\\\") + "'"
    return "'" + quoted + "'"
