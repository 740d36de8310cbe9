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
    return _sql_hash((op.sql, op.rollback_sql) for op in operations)


def stored_sql_hash(plan) -> str:
    """``compute_sql_hash`` of the plan's operation rows as stored, read as (sql, rollback_sql)
    pairs: the gate's check on a 10,000-operation plan without making 10,000 model objects."""
    return _sql_hash(plan.operations.values_list("sql", "rollback_sql"))


def _sql_hash(pairs) -> str:
    digest = hashlib.sha256()
    for sql, rollback_sql in pairs:
        digest.update(sql.strip().encode())
        digest.update(b"\x00")
        digest.update((rollback_sql or "").strip().encode())
        digest.update(b"\x01")
    return digest.hexdigest()


def _digest(document) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compute_analysis_digest(analysis, report) -> str:
    """The digest of an analysis: its id, the SQL and target it was of, its risk and its report."""
    return _digest({"id": analysis.pk, "sql_hash": analysis.sql_hash, "target": analysis.target_identity,
                    "risk_level": analysis.risk_level, "risk_score": analysis.risk_score, "report": report})


def analysis_digest(analysis) -> str | None:
    """The digest stored when the analysis finished (hashing a 10,000-statement report on a page
    view cost most of that page's time), or, for rows stored without one, computed from the report.
    The gate's strict check and the executor recompute it from the report (``analysis_intact``)."""
    if analysis is None:
        return None
    if analysis.digest:
        return analysis.digest
    return compute_analysis_digest(analysis, analysis.report)


def analysis_intact(analysis, report) -> bool:
    """Whether ``report`` (the analysis's report as stored now, read whole) and the row's risk, SQL
    hash and target are still what its stored digest and summary were made of; a row edited by
    hand is not. Rows stored without a digest have nothing to compare."""
    if analysis is None or not analysis.digest:
        return True
    from migrations_app.report_store import summarise

    if compute_analysis_digest(analysis, report) != analysis.digest:
        return False
    return analysis.summary is None or analysis.summary == summarise(report)


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
