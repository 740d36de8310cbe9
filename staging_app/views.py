"""Staging pages: list, create (with a live progress bar), detail, cleanup with confirmation."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render

from dataflow_site.roles import ALL_ROLES, DBA, readers, require_role, role_required
from staging_app.engines.registry import StagingLimitExceeded
from staging_app.engines.staging_environment_manager import StagingEnvironmentError
from staging_app.forms import MaskingRulesForm, StagingCreateForm
from staging_app.models import StagingEnvironment, StagingOrphan, TargetMaskingRules
from staging_app.registry import manager_for, staging_server_override
from targets.jobs import announce_if_finished, enqueue_on_commit
from targets.models import AuditEvent, TargetDatabase


@readers
def staging_list(request):
    environments = StagingEnvironment.objects.select_related("target").annotate(
        rehearsals_served=Count("rehearsals")).order_by("-created_at")[:200]
    orphans = StagingOrphan.objects.filter(resolved_at__isnull=True)
    targets = TargetDatabase.objects.select_related("masking")
    return render(request, "staging_app/list.html", {"environments": environments, "orphans": orphans,
                                                     "targets": targets})


@role_required(DBA)
def staging_create(request):
    only = TargetDatabase.objects.values_list("pk", flat=True)[:2]
    chosen = request.GET.get("target") or (only[0] if len(only) == 1 else None)  # one target: it is the one
    form = StagingCreateForm(request.POST or None, initial={"target": chosen})
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["target"]
        manager = manager_for(target, request.user)
        try:
            env = manager.create_staging_environment(
                target.connection(), form.cleaned_data["data_sample_size"],
                staging_db_override=staging_server_override(target),
                tables_filter=form.cleaned_data["tables_filter"],
                masking_rules=form.cleaned_data["parsed_masking_rules"])
        except (StagingLimitExceeded, StagingEnvironmentError) as exc:
            form.add_error(None, str(exc))
        else:
            row = StagingEnvironment.objects.get(staging_id=env.staging_id)
            AuditEvent.record(request.user, "staging.created", row,
                              data={"target": target.name, "sample": env.data_sample_size,
                                    "tables_filter": env.tables_filter, "masked": sorted(env.masking_rules)})
            enqueue_on_commit("staging_app.tasks.replicate_staging_environment", env.staging_id,
                              name="staging", group="staging")
            return redirect("staging_detail", staging_id=env.staging_id)
    return render(request, "staging_app/create.html", {"form": form})


@role_required(*ALL_ROLES)  # not @readers: DBAs POST here (checked below)
def masking_rules(request, target_id):
    """A target's saved masking rules: every role reads them, DBAs change them."""
    target = get_object_or_404(TargetDatabase, pk=target_id)
    saved = TargetMaskingRules.objects.filter(target=target).first()
    form = MaskingRulesForm(request.POST or None, initial={"rules": saved.as_text() if saved else ""})
    if request.method == "POST":
        require_role(request.user, DBA)  # the coarse guard @role_required(DBA) gives the other POST views
        if form.is_valid():
            rules = form.cleaned_data["rules"]
            TargetMaskingRules.objects.update_or_create(target=target, defaults={"rules": rules, "updated_by": request.user})
            AuditEvent.record(request.user, "staging.masking_rules_saved", target, data={"columns": sorted(rules)})
            messages.success(request, f"Masking rules of {target.name} saved: {len(rules)} column(s).")
            return redirect("staging_masking", target_id=target.pk)
    return render(request, "staging_app/masking.html", {"target": target, "saved": saved, "form": form})


@readers
def staging_detail(request, staging_id):
    env = get_object_or_404(StagingEnvironment.objects.select_related("target", "created_by").annotate(
        rehearsals_served=Count("rehearsals")), staging_id=staging_id)
    rehearsals = env.rehearsals.select_related("plan", "requested_by")[:20]
    template = "staging_app/detail.html"
    if request.htmx and request.GET.get("part") in ("result", "served"):  # refreshed when the copy is made
        template += "#" + request.GET["part"]
    return render(request, template, {"env": env, "result": env.replication_result or {}, "rehearsals": rehearsals})


@readers
def staging_progress(request, staging_id):
    """The progress bar fragment (``?compact=1``: the status pill of a list row); it keeps polling
    itself only while the copy is being made and announces its end (the result and lists refresh on it)."""
    env = get_object_or_404(StagingEnvironment, staging_id=staging_id)
    template = "staging_app/_status.html" if request.GET.get("compact") else "staging_app/_progress.html"
    response = render(request, template, {"env": env})
    return announce_if_finished(response, env, bool(request.GET.get("was_active")))


@role_required(DBA)
def staging_cleanup(request, staging_id):
    env = get_object_or_404(StagingEnvironment.objects.select_related("target"), staging_id=staging_id)
    if request.method == "POST":
        outcome = manager_for(env.target, request.user).cleanup_staging_environment(staging_id)
        AuditEvent.record(request.user, "staging.cleanup", env, data=outcome)
        level = messages.SUCCESS if outcome["cleanup_status"] == "SUCCESS" else messages.ERROR
        messages.add_message(request, level, f"Cleanup {outcome['cleanup_status']}: {outcome['message']}")
        return redirect("staging_detail", staging_id=staging_id)
    return render(request, "staging_app/cleanup_confirm.html", {"env": env})
