"""One call for CI: the plan of a branch (``ref``) on a target, created or brought up to date from
the branch's migration files, and analysed when its SQL changed."""

from __future__ import annotations

from types import SimpleNamespace

from django.db import transaction
from ninja import Router, Schema

from integrations.api import serialize
from integrations.api.auth import require_write
from integrations.api.plans import MigrationFile, build_operations, find_target, save_sources
from integrations.models import PlanSource
from migrations_app import workflow
from migrations_app.gate import current_analysis
from migrations_app.models import PlanStatus
from migrations_app.permissions import ANALYSABLE, EDITABLE
from migrations_app.review_version import compute_sql_hash

router = Router(tags=["ci"])


class SubmitIn(Schema):
    target: str
    ref: str
    title: str = ""
    schema_name: str = "public"
    files: list[MigrationFile]
    format: str | None = None


def _hash(operations: list[dict]) -> str:
    return compute_sql_hash([SimpleNamespace(sql=op["sql"], rollback_sql=op["rollback_sql"]) for op in operations])


@router.post("/ci/submit", summary="Create or update the plan of a branch from its migration files, and analyse it")
def submit(request, payload: SubmitIn):
    require_write(request)
    target = find_target(payload.target)
    built = build_operations(target, payload.schema_name, sql=None, files=payload.files, format=payload.format)
    answer = {"format": built.format, "skipped_versions": built.skipped_versions, "versions": built.versions,
              "created": False, "changed": False}
    if not built.operations:
        return {**answer, "plan": None, "analysis": None,
                "detail": f"every version in the files is already applied on {target.name}"}
    source = PlanSource.objects.select_related("plan").filter(target=target, ref=payload.ref).first()
    plan = source.plan if source else None
    title = payload.title or f"{payload.ref}: {', '.join(built.versions[:3]) or 'migration'}"
    with transaction.atomic():
        if plan is None or plan.status not in EDITABLE:  # a branch's plan that ran is history: start a new one
            plan = workflow.create_plan(request.user, target=target, title=title[:200], schema=payload.schema_name,
                                        description=f"From CI ({built.format} files on {payload.ref}).",
                                        operations=built.operations)
            answer["created"] = True
        elif _hash(built.operations) != plan.sql_hash:
            plan = workflow.replace_operations(plan, request.user, built.operations)
            answer["changed"] = True
        if answer["created"] or answer["changed"]:
            save_sources(plan, built)
        PlanSource.objects.update_or_create(target=target, ref=payload.ref, defaults={
            "plan": plan, "format": built.format, "files": built.files, "skipped_versions": built.skipped_versions})
    plan.refresh_from_db()
    run = current_analysis(plan) if plan.status != PlanStatus.DRAFT else None
    if run is None and plan.status in ANALYSABLE:
        run = workflow.request_analysis(plan, request.user)
        run.refresh_from_db()
    elif run is None:
        run = plan.analyses.order_by("-queued_at", "-id").first()
    plan.refresh_from_db()
    return {**answer, "plan": serialize.plan(plan), "analysis": serialize.analysis(run) if run else None}
