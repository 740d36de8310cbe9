"""Readable SQL text for names and values shown to people and run as written (suggested SQL,
rollback steps, rename scripts): quoted only where PostgreSQL needs it. SQL the engines execute
themselves is composed with ``psycopg.sql`` instead."""

import re

from pglast import keywords
from psycopg import sql

_KEYWORDS = {k.lower() for k in (keywords.RESERVED_KEYWORDS | keywords.TYPE_FUNC_NAME_KEYWORDS
                                  | keywords.COL_NAME_KEYWORDS)}
_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")


def ident(*parts: str | None) -> str:
    """Identifier chain quoted only where PostgreSQL needs it; empty parts are left out."""
    return ".".join(p if _PLAIN.fullmatch(p) and p not in _KEYWORDS else sql.Identifier(p).as_string(None)
                    for p in parts if p)


def literal(value: str) -> str:
    return sql.Literal(value).as_string(None)
