"""The audit trail's hash chain: how a row's hash is computed and how the chain is checked.

Each row stores ``prev_hash`` (the previous row's ``row_hash``, GENESIS for the first) and
``row_hash`` = sha256 over canonical JSON of its fields plus ``prev_hash``. Editing a row changes
its hash; removing or inserting a row breaks the next row's link; rewriting the whole chain from
some row on changes the head, which is why ``verify_audit`` prints the head to be kept elsewhere.

The canonical form must never change: rows already written were hashed with it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime, timezone

GENESIS = "0" * 64
# pg_advisory_xact_lock key serialising audit inserts, so the chain stays linear ("DFAUDIT1").
CHAIN_LOCK_KEY = 0x4446415544495431
HASHED_FIELDS = ("actor_id", "actor_name", "verb", "object_type", "object_id", "object_repr", "data", "created_at")


def canonical_created_at(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(fields: dict, prev_hash: str) -> str:
    """``fields``: HASHED_FIELDS as stored (``data`` as it reads back from jsonb)."""
    document = {name: fields[name] for name in HASHED_FIELDS}
    document["created_at"] = canonical_created_at(fields["created_at"])
    document["prev_hash"] = prev_hash
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclasses.dataclass
class ChainReport:
    checked: int = 0
    head_id: int | None = None
    head_hash: str = GENESIS
    broken_at: int | None = None
    problem: str = ""
    anchor_problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None and not self.anchor_problem


def verify_rows(rows, *, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Walk ``rows`` (dicts with id, prev_hash, row_hash and HASHED_FIELDS, in id order) and stop
    at the first broken link. ``anchor`` (id, hash) kept outside the database must still be there."""
    report = ChainReport()
    previous_id, previous_hash = None, GENESIS
    anchor_seen = False
    for row in rows:
        report.checked += 1
        if row["prev_hash"] != previous_hash:
            where = f"event #{previous_id}" if previous_id else "the start of the chain"
            report.broken_at = row["id"]
            report.problem = (f"event #{row['id']} does not link to {where}: an event before it was removed, "
                              "inserted or rewritten")
            return report
        if row_hash(row, row["prev_hash"]) != row["row_hash"]:
            report.broken_at = row["id"]
            report.problem = f"event #{row['id']} does not match its hash: its content was changed after it was written"
            return report
        if anchor and row["id"] == anchor[0]:
            anchor_seen = True
            if row["row_hash"] != anchor[1]:
                report.anchor_problem = (f"event #{anchor[0]} has hash {row['row_hash'][:16]}…, not the anchored "
                                         f"{anchor[1][:16]}…: the chain was rewritten up to it")
        previous_id, previous_hash = row["id"], row["row_hash"]
    report.head_id, report.head_hash = previous_id, previous_hash
    if anchor and not anchor_seen:
        report.anchor_problem = f"anchored event #{anchor[0]} is not in the chain any more: events were removed"
    return report
