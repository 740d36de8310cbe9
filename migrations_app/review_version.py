"""The review version: one hash over everything a signer is shown and signs.

It covers the plan's ``sql_hash`` (forward and rollback SQL of every operation, in order), the
target's connection identity (host, port, database, user) with the plan's schema, and the
analysis the page showed (its id and a digest of its report). The review page carries it in the
sign-off form; a sign-off counts only while it still equals the plan's current version.
"""

from __future__ import annotations

import hashlib
import json


def compute_sql_hash(operations) -> str:
    """sha256 over the ordered operations' SQL and rollback SQL: what reviewers sign."""
    digest = hashlib.sha256()
    for op in operations:
        digest.update(op.sql.strip().encode())
        digest.update(b"\x00")
        digest.update((op.rollback_sql or "").strip().encode())
        digest.update(b"\x01")
    return digest.hexdigest()


def _digest(document) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_DIGESTS: dict[tuple, str] = {}


def analysis_digest(analysis) -> str | None:
    if analysis is None:
        return None
    # A finished analysis never changes, so its digest is computed once per process (hashing a
    # 10,000-statement report on every page view cost most of that page's time). The key carries
    # every field the digest covers except the report, and the finish time.
    key = (analysis.pk, analysis.sql_hash, analysis.risk_level, analysis.risk_score, analysis.finished_at,
           str(analysis.target_identity))
    digest = _DIGESTS.get(key) if analysis.finished_at else None
    if digest is None:
        digest = _digest({"id": analysis.pk, "sql_hash": analysis.sql_hash, "target": analysis.target_identity,
                          "risk_level": analysis.risk_level, "risk_score": analysis.risk_score,
                          "report": analysis.report})
        if analysis.finished_at:
            if len(_DIGESTS) > 2048:
                _DIGESTS.clear()
            _DIGESTS[key] = digest
    return digest


def review_version(plan, analysis) -> str:
    document = {"sql_hash": plan.sql_hash, "target": plan.target.connection_identity(plan.schema),
                "analysis": analysis_digest(analysis)}
    if plan.statement_timeout_seconds:  # only when set, so versions signed before the field stay valid
        document["statement_timeout_seconds"] = plan.statement_timeout_seconds
    return _digest(document)


def why_not_current(sign_off, plan, analysis) -> str:
    """Which bound part of an uncounted sign-off no longer matches, for the gate's explanation."""
    if sign_off.sql_hash != plan.sql_hash:
        return "the SQL or rollback SQL changed"
    if sign_off.target_identity != plan.target.connection_identity(plan.schema):
        return "the target's host, port, database, user or schema changed"
    if analysis is None or sign_off.analysis_id != analysis.pk:
        return "the plan was analysed again"
    return "the review version does not match"
