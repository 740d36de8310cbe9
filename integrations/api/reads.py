"""Read endpoints: targets, the ledger, rehearsals, executions, incidents. Any role may read."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Router

from integrations import ledger
from integrations.api import serialize
from migrations_app import permissions
from migrations_app.models import Execution, Incident, MigrationPlan
from targets.models import TargetDatabase

router = Router(tags=["read"])


def reader(request) -> None:
    permissions.require(permissions.can_read(request.user))


@router.get("/targets", summary="Target databases (never their passwords)")
def list_targets(request):
    reader(request)
    return [serialize.target(t) for t in TargetDatabase.objects.order_by("name")]


@router.get("/targets/{target_id}", summary="One target")
def get_target(request, target_id: int):
    reader(request)
    return serialize.target(get_object_or_404(TargetDatabase, pk=target_id))


@router.get("/targets/{target_id}/ledger", summary="What was applied on the target, oldest first")
def target_ledger(request, target_id: int):
    reader(request)
    target = get_object_or_404(TargetDatabase, pk=target_id)
    return {"target": target.name, "applied_versions": sorted(ledger.applied_versions(target)),
            "entries": [serialize.ledger_entry(e) for e in ledger.history(target)]}


@router.get("/plans/{plan_id}/rehearsals", summary="Staging rehearsals of a plan")
def plan_rehearsals(request, plan_id: int):
    reader(request)
    plan = get_object_or_404(MigrationPlan, pk=plan_id)
    return [serialize.rehearsal(r) for r in plan.rehearsals.order_by("-queued_at", "-id")]


@router.get("/plans/{plan_id}/executions", summary="Executions (and rollbacks) of a plan")
def plan_executions(request, plan_id: int):
    reader(request)
    plan = get_object_or_404(MigrationPlan, pk=plan_id)
    return [serialize.execution(e) for e in plan.executions.select_related("user")]


@router.get("/executions/{execution_id}", summary="One execution with its statement log")
def get_execution(request, execution_id: int):
    reader(request)
    return serialize.execution(get_object_or_404(Execution.objects.select_related("user"), pk=execution_id), log=True)


@router.get("/incidents", summary="Incidents, newest first")
def list_incidents(request, status: str | None = None, severity: str | None = None, limit: int = 100):
    reader(request)
    rows = Incident.objects.select_related("target").order_by("-opened_at")
    if status:
        rows = rows.filter(status=status)
    if severity:
        rows = rows.filter(severity=severity)
    return [serialize.incident(i) for i in rows[: max(1, min(limit, 500))]]


@router.get("/incidents/{incident_id}", summary="One incident with its timeline")
def get_incident(request, incident_id: int):
    reader(request)
    return serialize.incident(get_object_or_404(Incident.objects.select_related("target"), pk=incident_id))
