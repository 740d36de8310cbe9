"""identifier-too-long: PostgreSQL silently truncates identifiers to 63 bytes.

The parser has already truncated them in the parse tree, so the rule reads the tokens of the
statement text (pglast's scanner) and measures each identifier as written.
"""

import re

from pglast import parser as pg_parser

from migrations_app.engines.lint.base import Rule

MAX_BYTES = 63
# An ASCII statement can hold an identifier over 63 bytes only as a run of 64 identifier characters
# (unquoted: letters, digits, _ and $) or inside double quotes: without either, scanning finds none.
_LONG_PLAIN_RUN = re.compile(r"[A-Za-z0-9_$]{%d}" % (MAX_BYTES + 1))

RULE = Rule(
    id="identifier-too-long",
    severity="error",
    problem="Identifiers longer than 63 bytes are truncated without error: two long names can collide, and "
            "tools using the full name miss the object.",
    solution="Choose a name of at most 63 bytes (count bytes, not characters, for non-ASCII names).",
)


@RULE.check
def check(stmt, ctx):
    if stmt.sql.isascii() and '"' not in stmt.sql and _LONG_PLAIN_RUN.search(stmt.sql) is None:
        return
    seen = set()
    for token in pg_parser.scan(stmt.sql):
        if token.name != "IDENT":
            continue
        text = stmt.sql[token.start:token.end + 1]
        name = text[1:-1].replace('""', '"') if text.startswith('"') else text.lower()
        size = len(name.encode())
        if size > MAX_BYTES and name not in seen:
            seen.add(name)
            short = name.encode()[:MAX_BYTES].decode(errors="ignore")
            yield RULE.finding(stmt, f"identifier {name!r} is {size} bytes; PostgreSQL truncates it to {short!r}",
                               identifier=name, bytes=size)
