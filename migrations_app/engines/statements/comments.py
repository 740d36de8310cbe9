"""The comments of a SQL script, found with PostgreSQL's own scanner (so a ``--`` inside a string
literal or a dollar-quoted body is never taken for one)."""

from __future__ import annotations

from pglast import parser as pg_parser


def script_comments(text: str) -> list[tuple[int, str]]:
    """(1-based line, comment text) for every ``--`` and ``/* */`` comment; [] when the text does not scan."""
    data = text.encode("utf-8", "surrogatepass")
    try:
        tokens = pg_parser.scan(text)
    except pg_parser.ParseError:
        return []
    # the scanner's offsets are in UTF-8 bytes, end inclusive
    return [(data.count(b"\n", 0, t.start) + 1, data[t.start:t.end + 1].decode("utf-8", "replace").strip())
            for t in tokens if t.name in ("SQL_COMMENT", "C_COMMENT")]
