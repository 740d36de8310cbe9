"""identifier-too-long: PostgreSQL silently truncates identifiers to 63 bytes.

The parser has already truncated them in the parse tree, so the rule reads the tokens of the
statement text (pglast's scanner) and measures each identifier as written.
"""

from pglast import parser as pg_parser

from migrations_app.engines.lint.base import Rule

MAX_BYTES = 63

RULE = Rule(
    id="identifier-too-long",
    severity="error",
    problem="Identifiers longer than 63 bytes are truncated without error: two long names can collide, and "
            "tools using the full name miss the object.",
    solution="Choose a name of at most 63 bytes (count bytes, not characters, for non-ASCII names).",
)


@RULE.check
def check(stmt, ctx):
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
