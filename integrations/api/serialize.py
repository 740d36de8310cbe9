"""Rows as JSON: the same facts the pages show, never a password or a token."""

from __future__ import annotations

from integrations.models import OperationSource
from migrations_app.gate import current_analysis, evaluate_gate


def _when(value):
    return value.isoformat() if value else None


def _user(user):
    return user.username if user is not None else None


def target(t) -> dict:
    return {"id": t.pk, "name": t.name, "environment": t.environment, "host": t.host, "port": t.port,
            "dbname": t.dbname, "user": t.user, "sslmode": t.sslmode, "health": t.health_state,
            "last_health_at": _when(t.last_health_at)}


def plan(p) -> dict:
    return {"id": p.pk, "url": p.get_absolute_url(), "title": p.title, "target": p.target.name, "target_id": p.target_id, "schema": p.schema,
            "author": _user(p.author), "status": p.status, "risk_level": p.risk_level or None,
            "risk_score": p.risk_score, "sql_hash": p.sql_hash, "description": p.description,
            "created_at": _when(p.created_at), "updated_at": _when(p.updated_at)}


def operations(p) -> list[dict]:
    ops = list(p.operations.all())
    sources = {s.operation_id: s for s in OperationSource.objects.filter(operation__in=ops)}
    result = []
    for op in ops:
        source = sources.get(op.pk)
        result.append({
            "position": op.position, "type": op.type, "schema": op.schema_name, "table": op.table,
            "column": op.column, "sql": op.sql, "rollback_sql": op.rollback_sql, "rollback_note": op.rollback_note,
            "line": op.line,
            "source": {"path": source.path, "line": source.line, "version": source.version,
                       "rollback_path": source.rollback_path} if source else None})
    return result


def analysis(run, *, report: bool = False) -> dict:
    data = {"id": run.pk, "plan_id": run.plan_id, "status": run.status, "sql_hash": run.sql_hash,
            "risk_level": run.risk_level or None, "risk_score": run.risk_score, "error": run.error,
            "queued_at": _when(run.queued_at), "started_at": _when(run.started_at),
            "finished_at": _when(run.finished_at), "progress": run.progress}
    if report:
        data["report"] = run.report
    return data


def gate(p) -> dict:
    result = evaluate_gate(p)
    return {"risk_level": result.risk_level, "satisfied": result.satisfied, "explain": result.explain(),
            "requirements": [{"key": r.key, "label": r.label, "met": r.met, "detail": r.detail}
                             for r in result.requirements],
            "notices": list(result.notices),
            "sign_offs": [{"user": _user(s.user), "role": s.role, "decision": s.decision, "comment": s.comment,
                           "voided": s.voided, "voided_reason": s.voided_reason, "sql_hash": s.sql_hash,
                           "created_at": _when(s.created_at)} for s in p.sign_offs.select_related("user")]}


def rehearsal(r) -> dict:
    return {"id": r.pk, "plan_id": r.plan_id, "status": r.status, "sql_hash": r.sql_hash,
            "environment_id": r.environment_id, "validation_status": r.validation_status,
            "rollback_verified": r.rollback_verified, "rollback_schema_verified": r.rollback_schema_verified,
            "rollback_data_status": r.rollback_data_status, "projected_lock_ms": r.projected_lock_ms,
            "warnings": r.warnings, "error": r.error, "queued_at": _when(r.queued_at),
            "finished_at": _when(r.finished_at)}


def execution(e, *, log: bool = False) -> dict:
    data = {"id": e.pk, "plan_id": e.plan_id, "kind": e.kind, "status": e.status, "user": _user(e.user),
            "sql_hash": e.sql_hash, "rollback_executed": e.rollback_executed, "rows_modified": e.rows_modified,
            "digest_before": e.digest_before, "digest_after": e.digest_after, "error": e.error,
            "committed_operations": e.committed_operations, "queued_at": _when(e.queued_at),
            "finished_at": _when(e.finished_at)}
    if log:
        data["statement_log"] = e.statement_log
    return data


def incident(i) -> dict:
    return {"id": i.pk, "plan_id": i.plan_id, "execution_id": i.execution_id, "target": i.target.name,
            "severity": i.severity, "failure_type": i.failure_type, "title": i.title, "summary": i.summary,
            "status": i.status, "tables_affected": i.tables_affected, "rows_modified": i.rows_modified,
            "recovery_actions": i.recovery_actions, "timeline": i.timeline, "notes": i.notes,
            "opened_at": _when(i.opened_at), "resolved_at": _when(i.resolved_at)}


def ledger_entry(e) -> dict:
    return {"id": e.pk, "plan_id": e.plan_id, "execution_id": e.execution_id, "versions": e.versions,
            "files": e.files, "sql_hash": e.sql_hash, "applied_by": _user(e.applied_by), "outcome": e.outcome,
            "schema_digest_after": e.schema_digest_after, "snapshot_digest": e.snapshot_digest,
            "is_baseline": e.is_baseline, "note": e.note,
            "recorded_at": _when(e.recorded_at)}


def plan_detail(p) -> dict:
    run = current_analysis(p)
    latest = p.analyses.order_by("-queued_at", "-id").first()
    return {**plan(p), "operations": operations(p), "gate": gate(p),
            "current_analysis": analysis(run) if run else None,
            "latest_analysis": analysis(latest) if latest else None}
