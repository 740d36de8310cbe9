"""What pages read of a stored analysis report without loading it whole.

A 10,000-statement plan's report is about 34 MB of JSON (its per-statement lists: statements, the
risk's per-operation scores and factors, the rollback review's statements); loading and decoding it
took most of a review page's time. So when an analysis finishes it also stores

- ``AnalysisRun.summary``: the report without its per-statement lists (the longest lists are cut to
  their first or heaviest entries, with the full count kept): what the gate, the risk, mitigation
  and dependency tabs and the analysis panel show;
- ``AnalysisRun.digest``: the analysis digest the review version binds (``review_version``).

and a page reads one page of statements with a JSON path in SQL. Rows stored before these fields
existed (or made by hand) fall back to the full report.
"""

from __future__ import annotations

import json

from django.db import connection

# how many entries of each long list the summary keeps (the pages say how many there are in all)
SUMMARY_FACTORS = 50
SUMMARY_FLOORS = 100
SUMMARY_ROLLBACK_STATEMENTS = 100


def _heaviest(factors: list, limit: int) -> list:
    return sorted(factors or [], key=lambda f: -((f or {}).get("points") or 0))[:limit]


def _risk_summary(risk: dict | None) -> dict | None:
    if not isinstance(risk, dict):
        return risk
    kept = {k: v for k, v in risk.items() if k not in ("operations", "factors", "floors")}
    factors, floors = risk.get("factors") or [], risk.get("floors") or []
    kept.update(factors=_heaviest(factors, SUMMARY_FACTORS), factor_count=len(factors))
    if "floors" in risk:
        order = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2}
        kept.update(floors=sorted(floors, key=lambda f: order.get((f or {}).get("level"), 3))[:SUMMARY_FLOORS],
                    floor_count=len(floors))
    return kept


def summarise(report: dict | None) -> dict | None:
    """The report without ``statements`` and the risk's per-operation list, its factors cut to
    the heaviest ``SUMMARY_FACTORS`` (floors and rollback statements likewise), with counts."""
    if report is None:
        return None
    summary = {k: v for k, v in report.items() if k not in ("statements", "risk", "rollback_review")}
    statements = report.get("statements") or []
    summary["statement_count"] = len(statements)
    summary["finding_count"] = sum(len((s or {}).get("findings") or []) for s in statements)
    if "risk" in report:
        summary["risk"] = _risk_summary(report["risk"])
    if "rollback_review" in report:
        review = report["rollback_review"]
        if isinstance(review, dict):
            rollback_statements = review.get("statements") or []
            review = {**review, "statements": rollback_statements[:SUMMARY_ROLLBACK_STATEMENTS],
                      "statement_count": len(rollback_statements)}
            if "risk" in review:
                review["risk"] = _risk_summary(review["risk"])
        summary["rollback_review"] = review
    return summary


def summary_of(analysis) -> dict:
    """The stored summary, or one made from the full report for rows stored without it."""
    if analysis is None:
        return {}
    if analysis.summary is not None:
        return analysis.summary
    return summarise(analysis.report) or {}


def statements_slice(analysis, start: int, stop: int) -> list[dict]:
    """Statements ``start`` to ``stop - 1`` of the analysis's report, read in SQL (a JSON path
    over the stored report) unless the report is loaded already."""
    if analysis is None or stop <= start:
        return []
    if "report" not in analysis.get_deferred_fields():
        return ((analysis.report or {}).get("statements") or [])[start:stop]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT jsonb_path_query_array(report, %s::jsonpath) FROM {analysis._meta.db_table} "
                       "WHERE id = %s", [f"$.statements[{int(start)} to {int(stop) - 1}]", analysis.pk])
        row = cursor.fetchone()
    value = row[0] if row else None
    if isinstance(value, (str, bytes)):
        value = json.loads(value)
    return value or []


def stored_report(analysis):
    """The analysis's report as stored now, decoded the way every read decodes it (the digest is
    over that), whatever the instance holds."""
    return type(analysis)._default_manager.filter(pk=analysis.pk).values_list("report", flat=True).first()
