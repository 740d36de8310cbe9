"""Plans through the API: read them, create one or replace its SQL (pasted SQL or migration
files), request an analysis, poll it, fetch the report. Writes go through the workflow, which asks
the permission policy and applies the statement policy, exactly as the pages do."""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from integrations import ledger
from integrations.api import serialize
from integrations.api.auth import require_write
from integrations.api.reads import reader
from integrations.models import OperationSource
from integrations.plan_files import FilesError, FileOperations, is_policy_refusal, operations_from_files
from migrations_app import workflow
from migrations_app.models import AnalysisRun, MigrationPlan
from migrations_app.plan_sql import ScriptError, script_to_operations
from targets.models import TargetDatabase

router = Router(tags=["plans"])


class MigrationFile(Schema):
    path: str
    content: str


class PlanIn(Schema):
    target: str
    title: str
    schema_name: str = "public"
    description: str = ""
    sql: str | None = None
    files: list[MigrationFile] | None = None
    format: str | None = None


class SqlIn(Schema):
    sql: str | None = None
    files: list[MigrationFile] | None = None
    format: str | None = None


def find_target(name_or_id: str) -> TargetDatabase:
    if name_or_id.isdigit():
        return get_object_or_404(TargetDatabase, pk=int(name_or_id))
    return get_object_or_404(TargetDatabase, name=name_or_id)


def build_operations(target, schema: str, *, sql: str | None, files, format: str | None) -> FileOperations:
    """Operations from pasted SQL or from migration files (skipping versions the ledger applied)."""
    if (sql is None) == (files is None):
        raise FilesError("give either sql or files")
    if files is not None:
        return operations_from_files([(f.path, f.content) for f in files], schema=schema, target=target,
                                     format=format, applied=ledger.applied_versions(target))
    try:
        ops = script_to_operations(sql, schema, target)
    except ScriptError as exc:
        raise FilesError(str(exc), policy=is_policy_refusal(exc)) from None
    return FileOperations("sql", ops, [None] * len(ops), [], [])


def save_sources(plan: MigrationPlan, built: FileOperations) -> None:
    ops = list(plan.operations.order_by("position", "id"))
    OperationSource.objects.filter(operation__plan=plan).delete()
    OperationSource.objects.bulk_create([
        OperationSource(operation=op, **source) for op, source in zip(ops, built.sources) if source])


@router.get("/plans", summary="Plans, newest first")
def list_plans(request, target: str | None = None, status: str | None = None, limit: int = 100):
    reader(request)
    rows = MigrationPlan.objects.select_related("target", "author").order_by("-created_at")
    if target:
        rows = rows.filter(target=find_target(target))
    if status:
        rows = rows.filter(status=status)
    return [serialize.plan(p) for p in rows[: max(1, min(limit, 500))]]


@router.post("/plans", response={201: dict}, summary="Create a plan from SQL or migration files")
def create_plan(request, payload: PlanIn):
    require_write(request)
    target = find_target(payload.target)
    built = build_operations(target, payload.schema_name, sql=payload.sql, files=payload.files, format=payload.format)
    if not built.operations:
        raise FilesError(f"every version in the files is already applied on {target.name}: "
                         f"{', '.join(built.skipped_versions)}")
    with transaction.atomic():
        plan = workflow.create_plan(request.user, target=target, title=payload.title, schema=payload.schema_name,
                                    description=payload.description, operations=built.operations)
        save_sources(plan, built)
    return Status(201, {**serialize.plan_detail(plan), "format": built.format, "skipped_versions": built.skipped_versions})


@router.get("/plans/{plan_id}", summary="A plan with its operations, sign-off state and analyses")
def get_plan(request, plan_id: int):
    reader(request)
    return serialize.plan_detail(get_object_or_404(MigrationPlan.objects.select_related("target", "author"), pk=plan_id))


@router.get("/plans/{plan_id}/operations", summary="The plan's operations, with the file and line each came from")
def plan_operations(request, plan_id: int):
    reader(request)
    return serialize.operations(get_object_or_404(MigrationPlan, pk=plan_id))


@router.put("/plans/{plan_id}/sql", summary="Replace the plan's SQL (voids sign-offs, back to draft)")
def replace_sql(request, plan_id: int, payload: SqlIn):
    require_write(request)
    plan = get_object_or_404(MigrationPlan.objects.select_related("target"), pk=plan_id)
    built = build_operations(plan.target, plan.schema, sql=payload.sql, files=payload.files, format=payload.format)
    with transaction.atomic():
        plan = workflow.replace_operations(plan, request.user, built.operations)
        save_sources(plan, built)
    return {**serialize.plan_detail(plan), "format": built.format, "skipped_versions": built.skipped_versions}


@router.get("/plans/{plan_id}/sign-off", summary="What the sign-off gate requires and what is met")
def plan_gate(request, plan_id: int):
    reader(request)
    return serialize.gate(get_object_or_404(MigrationPlan.objects.select_related("target"), pk=plan_id))


@router.post("/plans/{plan_id}/analyses", response={202: dict}, summary="Request an analysis")
def request_analysis(request, plan_id: int):
    require_write(request)
    plan = get_object_or_404(MigrationPlan, pk=plan_id)
    run = workflow.request_analysis(plan, request.user)
    run.refresh_from_db()
    return Status(202, serialize.analysis(run))


@router.get("/plans/{plan_id}/analyses", summary="The plan's analyses, newest first")
def plan_analyses(request, plan_id: int):
    reader(request)
    plan = get_object_or_404(MigrationPlan, pk=plan_id)
    return [serialize.analysis(r) for r in plan.analyses.order_by("-queued_at", "-id")]


@router.get("/analyses/{analysis_id}", summary="One analysis (poll its status)")
def get_analysis(request, analysis_id: int):
    reader(request)
    return serialize.analysis(get_object_or_404(AnalysisRun, pk=analysis_id))


@router.get("/plans/{plan_id}/report", summary="The latest analysis's full report, findings placed in files")
def plan_report(request, plan_id: int):
    reader(request)
    plan = get_object_or_404(MigrationPlan.objects.select_related("target", "author"), pk=plan_id)
    run = plan.analyses.order_by("-queued_at", "-id").first()
    operations = serialize.operations(plan)
    return {"plan": serialize.plan(plan), "analysis": serialize.analysis(run, report=True) if run else None,
            "operations": operations, "findings": located_findings(run.report if run else None, operations),
            "gate": serialize.gate(plan)}


def located_findings(report: dict | None, operations: list[dict]) -> list[dict]:
    """Every lint finding with the file and line of the operation it is about (the statement's
    own line where the plan was pasted)."""
    found = []
    rules = (report or {}).get("rules") or {}
    for index, statement in enumerate((report or {}).get("statements") or []):
        op = operations[index] if index < len(operations) else None
        source = (op or {}).get("source") or {}
        for finding in statement.get("findings") or []:
            rule = rules.get(finding.get("rule")) or {}
            found.append({
                "rule": finding.get("rule"), "severity": finding.get("severity"), "message": finding.get("message"),
                "safe_sql": finding.get("safe_sql"), "risk_effect": finding.get("risk_effect"),
                "problem": rule.get("problem"), "solution": rule.get("solution"),
                "operation": index + 1, "sql": statement.get("sql"),
                "path": source.get("path"), "line": source.get("line") or (op or {}).get("line") or statement.get("line"),
            })
    return found
