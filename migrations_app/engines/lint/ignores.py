"""Inline ignores: ``-- dataflow:ignore <rule-id>[,<rule-id>...] <reason>`` on a statement's line(s) or
on the lines just above it suppresses those rules' findings for that statement only.

Comments come from the statement model's scanner (PostgreSQL's own), so a ``--`` inside a string literal or a
function body is never taken for a directive. A directive without a reason suppresses nothing; the
review policy reports it (``invalid-ignore``)."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from migrations_app.engines.statements.comments import script_comments

DIRECTIVE = re.compile(r"^(?:--|/\*)\s*dataflow:ignore\b\s*(?P<rules>[A-Za-z0-9_,\-]*)\s*(?P<reason>.*?)\s*(?:\*/)?\s*$",
                       re.DOTALL)


@dataclass(frozen=True)
class IgnoreDirective:
    rules: tuple[str, ...]
    reason: str
    line: int            # 1-based line of the comment in the text it was found in
    comment: str         # the comment as written (kept with the statement when a script becomes operations)

    def to_dict(self) -> dict:
        return {"rules": list(self.rules), "reason": self.reason, "line": self.line}


def find_directives(text: str) -> list[IgnoreDirective]:
    """Every ``dataflow:ignore`` comment of ``text`` with its line."""
    if "dataflow:ignore" not in text:
        return []
    found = []
    for line, comment in script_comments(text):
        match = DIRECTIVE.match(comment)
        if match:
            rules = tuple(r for r in match["rules"].split(",") if r)
            found.append(IgnoreDirective(rules, match["reason"].strip(), line, comment))
    return found


def assign_directives(directives: list[IgnoreDirective], raws) -> dict[int, list[IgnoreDirective]]:
    """Directive -> statement: the statement whose lines contain it, else the next statement below it."""
    if not directives or not raws:
        return {}
    starts = [raw.line for raw in raws]
    ends = [raw.line + raw.sql.count("\n") for raw in raws]
    assigned: dict[int, list[IgnoreDirective]] = {}
    for directive in directives:
        at = bisect_right(starts, directive.line) - 1   # last statement starting on or before the line
        if at >= 0 and directive.line <= ends[at]:
            target = at
        elif at + 1 < len(raws):
            target = at + 1
        else:
            continue  # below the last statement: nothing to apply it to (reported as unused)
        assigned.setdefault(target, []).append(directive)
    return assigned
