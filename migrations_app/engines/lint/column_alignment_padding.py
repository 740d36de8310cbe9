"""column-alignment-padding (Atlas PG110): fixed-width columns in an order that wastes bytes on every row."""

from migrations_app.engines.lint.base import Rule, declared_types

RULE = Rule(
    id="column-alignment-padding",
    severity="info",
    kinds=frozenset({"CREATE_TABLE"}),  # the check's first test: no finding for any other kind
    problem="PostgreSQL aligns each fixed-width value to its type's boundary (8 bytes for bigint, timestamptz, "
            "double precision; 4 for integer, date; 2 for smallint), so a boolean before a bigint wastes 7 bytes "
            "of padding in every row and every index entry that copies the row's layout.",
    solution="Declare fixed-width columns from the widest alignment to the narrowest (8, 4, 2, 1 bytes), then "
             "variable-length ones (text, numeric, jsonb). Column order cannot be changed later without "
             "rewriting the table, so it is cheapest at CREATE TABLE.",
)

# (length, alignment) of the fixed-width types; variable-length types (text, numeric, ...) are left out
FIXED = {
    "int8": (8, 8), "bigint": (8, 8), "bigserial": (8, 8), "serial8": (8, 8), "float8": (8, 8), "timestamp": (8, 8),
    "timestamptz": (8, 8), "time": (8, 8), "money": (8, 8), "interval": (16, 8), "timetz": (12, 8),
    "int4": (4, 4), "integer": (4, 4), "int": (4, 4), "serial": (4, 4), "serial4": (4, 4), "float4": (4, 4),
    "real": (4, 4), "date": (4, 4), "oid": (4, 4),
    "int2": (2, 2), "smallint": (2, 2), "smallserial": (2, 2), "serial2": (2, 2),
    "bool": (1, 1), "boolean": (1, 1), "char": (1, 1), "uuid": (16, 1),
}


def _row_bytes(widths: list[tuple[int, int]]) -> int:
    offset = 0
    for length, align in widths:
        offset = -(-offset // align) * align + length
    return -(-offset // 8) * 8  # the tuple's data area ends MAXALIGNed


@RULE.check
def check(stmt, ctx):
    if stmt.kind != "CREATE_TABLE":
        return
    columns = [(name, FIXED[t["name"]]) for name, t in declared_types(stmt)
               if not t["array"] and t["name"] in FIXED and not (t["name"] == "char" and t["mods"] not in ([], [1]))]
    declared = _row_bytes([w for _, w in columns])
    ordered = sorted(columns, key=lambda c: -c[1][1])
    best = _row_bytes([w for _, w in ordered])
    if declared - best >= 8:
        yield RULE.finding(stmt, f"{stmt.table}: {declared} bytes of fixed-width data per row in this order, {best} "
                                 f"in order of alignment", "-- " + ", ".join(name for name, _ in ordered),
                           bytes_saved=declared - best)
