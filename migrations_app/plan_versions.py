"""Plan versions: one kept per change of a plan's operations, and the unified diff between two.

``record_version`` runs inside the transaction that changed the operations (the workflow holds
the plan row locked or just created it), so numbers are gapless and a version never describes
SQL that did not commit."""

from __future__ import annotations

import dataclasses
import difflib

from django.db.models import Max

from migrations_app.review_models import PlanVersion


def record_version(plan, author, verb: str, operations) -> PlanVersion:
    number = (PlanVersion.objects.filter(plan=plan).aggregate(m=Max("number"))["m"] or 0) + 1
    snapshot = [{"position": op.position, "type": op.type, "sql": op.sql, "rollback_sql": op.rollback_sql}
                for op in sorted(operations, key=lambda o: (o.position, o.pk or 0))]
    return PlanVersion.objects.create(plan=plan, number=number, sql_hash=plan.sql_hash, operations=snapshot,
                                      verb=verb, author=author)


@dataclasses.dataclass(frozen=True)
class DiffLine:
    kind: str   # "add", "del", "hunk", "file" or "same": the CSS class of the line
    text: str


@dataclasses.dataclass(frozen=True)
class VersionDiff:
    old: PlanVersion
    new: PlanVersion
    forward: list[DiffLine]
    rollback: list[DiffLine]

    @property
    def identical(self) -> bool:
        return not self.forward and not self.rollback


def unified(old_text: str, new_text: str, old_name: str, new_name: str) -> list[DiffLine]:
    lines = difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), old_name, new_name, lineterm="")
    return [DiffLine(_kind(line), line) for line in lines]


def _kind(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "same")


def diff_versions(old: PlanVersion, new: PlanVersion) -> VersionDiff:
    a, b = f"v{old.number}", f"v{new.number}"
    return VersionDiff(old, new, unified(old.forward_sql, new.forward_sql, f"{a} forward", f"{b} forward"),
                       unified(old.rollback_sql, new.rollback_sql, f"{a} rollback", f"{b} rollback"))


def choose_diff(plan, old_number, new_number) -> VersionDiff | None:
    """The diff the history tab shows: ``old_number`` against ``new_number`` (default: the current
    version); by default the previous version against the current one. None with fewer than two."""
    versions = {v.number: v for v in plan.versions.all()}
    if len(versions) < 2:
        return None
    current = max(versions)
    new = versions.get(_number(new_number), versions[current])
    old = versions.get(_number(old_number))
    if old is None:
        earlier = [n for n in versions if n < new.number]
        old = versions[max(earlier)] if earlier else versions[min(n for n in versions if n != new.number)]
    return diff_versions(old, new)


def _number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
