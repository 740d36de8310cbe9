"""identifier-too-long: PostgreSQL silently truncates identifiers to 63 bytes."""

from migrations_app.engines.lint.base import Rule

MAX_BYTES = 63


def _names(stmt):
    for obj in stmt.objects:
        yield obj.table
        yield from obj.columns
    for key in ("constraint", "index", "new_name"):
        if stmt.details.get(key):
            yield stmt.details[key]


RULE = Rule(
    id="identifier-too-long",
    severity="error",
    problem="Identifiers longer than 63 bytes are truncated without error: two long names can collide, and "
            "later statements using the full name miss the object.",
    solution="Choose a name of at most 63 bytes (count bytes, not characters, for non-ASCII names).",
)


@RULE.check
def check(stmt, ctx):
    seen = set()
    for name in _names(stmt):
        if name and name not in seen and len(name.encode()) > MAX_BYTES:
            seen.add(name)
            yield RULE.finding(stmt, f"identifier {name!r} is {len(name.encode())} bytes and would be truncated to "
                                     f"{name.encode()[:MAX_BYTES].decode(errors='ignore')!r}")
