"""How the WHERE of a DELETE / UPDATE picks its rows, read from the parse tree (pglast JSON).

A rollback backup copies the rows the WHERE selects just before the statement runs, and the
executor checks that the statement changed as many rows as were copied. That proves nothing when
the WHERE can pick the same NUMBER of DIFFERENT rows twice (``IN (SELECT id ... LIMIT 1000)``,
``ORDER BY random() LIMIT 5``, ``TABLESAMPLE``, a volatile function): the copy would hold the wrong
rows and the rollback would restore them as if they were the lost ones.

``row_selection`` lists what the parse tree alone shows (``picks``: LIMIT, OFFSET, FETCH FIRST,
TABLESAMPLE, SKIP LOCKED, DISTINCT ON, order-dependent window functions) and the names whose
behaviour only the target's catalog knows (functions with their argument count, operators,
relations that may be views). ``engines.rollback.selection`` looks those up, and reads the
definitions of the views with ``query_picks``.

Taken as deterministic: LIMIT / OFFSET directly under EXISTS (they change how many rows the
subquery has, not which outer rows match), FETCH FIRST ... WITH TIES without OFFSET (every row
sorting alike the last one is kept), rank() / dense_rank() / percent_rank() / cume_dist() (ties
share a value), and count / sum / avg / min / max ... OVER a frame that is not ROWS.
"""

from __future__ import annotations

import dataclasses
import json
import re

from pglast import parser as pg_parser

from migrations_app.engines.statements.nodes import string_values

# window functions whose value for a row depends on the order of rows that sort alike (ties)
ORDER_DEPENDENT_WINDOW_FUNCTIONS = {"row_number", "ntile", "lag", "lead", "first_value", "last_value", "nth_value"}
# ranking functions that give rows sorting alike the same value
TIE_SHARING_WINDOW_FUNCTIONS = {"rank", "dense_rank", "percent_rank", "cume_dist"}
# aggregates whose windowed value is the same for rows sorting alike unless the frame counts ROWS
PEER_AGGREGATES = {"count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every"}
FRAMEOPTION_ROWS = 0x4   # PostgreSQL's nodes/parsenodes.h
# A_Expr kinds whose ``name`` is a real operator (BETWEEN's names are keywords)
OPERATOR_EXPR_KINDS = {"AEXPR_OP", "AEXPR_OP_ANY", "AEXPR_OP_ALL", "AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT",
                       "AEXPR_NULLIF", "AEXPR_IN", "AEXPR_LIKE", "AEXPR_ILIKE", "AEXPR_SIMILAR"}
_FETCH_FIRST = re.compile(r"\b(first|next)\s*\(?\s*$", re.IGNORECASE)


@dataclasses.dataclass
class RowSelection:
    # e.g. "LIMIT", "TABLESAMPLE", "row_number() OVER (...)"
    picks: list[str] = dataclasses.field(default_factory=list)
    functions: list[tuple[str | None, str, int]] = dataclasses.field(default_factory=list)  # (schema, name, arguments)
    operators: list[tuple[str | None, str]] = dataclasses.field(default_factory=list)
    relations: list[tuple[str | None, str]] = dataclasses.field(default_factory=list)


def row_selection(where: dict | list | None, text: str) -> RowSelection:
    """What decides which rows ``where`` (a JSON parse tree node; ``text`` is the SQL its locations
    point into) picks. Without a WHERE every row is picked: nothing to decide."""
    walk = _Walk(text)
    walk.node(where)
    return RowSelection(picks=sorted(walk.picks), functions=sorted(walk.functions, key=_sort_key),
                        operators=sorted(walk.operators, key=_sort_key),
                        relations=sorted(walk.relations, key=_sort_key))


def query_picks(text: str) -> list[str]:
    """What picks rows nondeterministically in a whole query (a view's definition); one that cannot
    be parsed says so, and counts as such."""
    try:
        stmts = json.loads(pg_parser.parse_sql_json(text)).get("stmts") or []
    except pg_parser.ParseError:
        return ["a definition that cannot be read"]
    return row_selection([s.get("stmt") for s in stmts], text).picks


def _sort_key(item: tuple) -> tuple:
    return tuple("" if part is None else part for part in item)


def _qualified(parts: list[str]) -> tuple[str | None, str]:
    return (parts[-2] if len(parts) > 1 else None), parts[-1]


class _Walk:
    def __init__(self, text: str):
        self.encoded = text.encode("utf-8", "surrogatepass")
        self.picks: set[str] = set()
        self.functions: set[tuple[str | None, str, int]] = set()
        self.operators: set[tuple[str | None, str]] = set()
        self.relations: set[tuple[str | None, str]] = set()
        self.exists_selects: set[int] = set()   # id() of the SELECTs directly under EXISTS

    def node(self, node) -> None:
        if isinstance(node, list):
            for item in node:
                self.node(item)
            return
        if not isinstance(node, dict):
            return
        if "limitOption" in node:   # a SELECT (also the bare larg / rarg of a UNION)
            self.select(node)
        for key, value in node.items():
            if key == "SubLink":
                self.sublink(value)
            elif key == "FuncCall":
                self.call(value)
            elif key == "A_Expr":
                kind = value.get("kind")
                if kind in OPERATOR_EXPR_KINDS:
                    self.operator(value.get("name"))
                elif kind in ("AEXPR_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN", "AEXPR_NOT_BETWEEN_SYM"):
                    for name in ((">=", "<=") if "NOT" not in kind else ("<", ">")):
                        self.operators.add((None, name))
            elif key == "RangeTableSample":
                self.picks.add("TABLESAMPLE")
            elif key == "RangeVar":
                self.relations.add((value.get("schemaname"), value.get("relname", "")))
            self.node(value)

    def sublink(self, link: dict) -> None:
        if link.get("operName"):
            self.operator(link["operName"])
        elif link.get("subLinkType") in ("ANY_SUBLINK", "ALL_SUBLINK"):
            self.operator([{"String": {"sval": "="}}])   # IN (SELECT ...)
        if link.get("subLinkType") == "EXISTS_SUBLINK":
            select = (link.get("subselect") or {}).get("SelectStmt")
            if select is not None:
                self.exists_selects.add(id(select))

    def operator(self, name) -> None:
        parts = string_values(name)
        if parts:
            self.operators.add(_qualified(parts))

    def call(self, call: dict) -> None:
        parts = string_values(call.get("funcname"))   # the parser folded unquoted names already
        if not parts:
            return
        schema, name = _qualified(parts)
        self.functions.add((schema, name, len(call.get("args") or [])))
        window = call.get("over")
        if window is None or name in TIE_SHARING_WINDOW_FUNCTIONS:
            return
        rows_frame = bool((window.get("frameOptions") or 0) & FRAMEOPTION_ROWS)
        if name in ORDER_DEPENDENT_WINDOW_FUNCTIONS or name not in PEER_AGGREGATES or rows_frame:
            self.picks.add(f"{name}() OVER (...)")

    def select(self, select: dict) -> None:
        # EXISTS asks only whether rows are left: LIMIT / OFFSET directly under it change a count, not
        # which rows the outer WHERE picks
        under_exists = id(select) in self.exists_selects
        count, offset = select.get("limitCount"), select.get("limitOffset")
        if count is not None and not _null(count) and not under_exists:
            if select.get("limitOption") == "LIMIT_OPTION_WITH_TIES":
                if offset is not None and not _zero(offset):
                    self.picks.add("FETCH FIRST ... WITH TIES")
                # WITH TIES without OFFSET keeps every row sorting alike the last one: the same set
                # each time (the ORDER BY's own functions are looked up like the others)
            else:
                self.picks.add(self.limit_word(count))
        if offset is not None and not _zero(offset) and not under_exists:
            self.picks.add("OFFSET")
        for lock in select.get("lockingClause") or []:
            if (lock.get("LockingClause") or {}).get("waitPolicy") == "LockWaitSkip":
                self.picks.add("SKIP LOCKED")
        if any(item for item in select.get("distinctClause") or []):   # DISTINCT is [{}]; DISTINCT ON lists
            self.picks.add("DISTINCT ON")

    def limit_word(self, count: dict) -> str:
        """LIMIT and FETCH FIRST parse alike: the word before the count tells which was written."""
        location = next((v.get("location") for v in count.values() if isinstance(v, dict)), None)
        if isinstance(location, int) and location >= 0:
            before = self.encoded[:location].decode("utf-8", "ignore")
            if _FETCH_FIRST.search(before):
                return "FETCH FIRST"
        return "LIMIT"


def _null(node: dict) -> bool:   # LIMIT ALL / LIMIT NULL
    return bool((node.get("A_Const") or {}).get("isnull"))


def _zero(node: dict) -> bool:   # OFFSET 0 (or NULL) skips nothing
    const = node.get("A_Const")
    return const is not None and (const.get("isnull") or ("ival" in const and not const["ival"].get("ival")))
