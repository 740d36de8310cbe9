"""Target databases: list, add, edit, delete, test connection, health check."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_q.tasks import async_task

from dataflow_site.roles import DBA, MANAGER, readers, role_required
from targets.crypto import SecretDecryptionError
from targets.engines.connections import TargetConnectionError
from targets.engines.health import DatabaseHealthCheck
from targets.forms import TargetDatabaseForm
from targets.models import AuditEvent, TargetDatabase
from targets.signals import announce_repointed


@readers
def target_list(request):
    targets = TargetDatabase.objects.all()
    return render(request, "targets/list.html", {"targets": targets})


@sensitive_post_parameters("password")
@role_required(DBA)
@require_http_methods(["GET", "POST"])
def target_add(request):
    form = TargetDatabaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            target = form.save()
            AuditEvent.record(request.user, "target.created", target, data=target.audit_data())
        messages.success(request, f"Target {target.name} added.")
        return redirect("target_health", target.pk)
    return render(request, "targets/form.html", {"form": form, "target": None})


@sensitive_post_parameters("password")
@role_required(DBA)
@require_http_methods(["GET", "POST"])
def target_edit(request, pk):
    target = get_object_or_404(TargetDatabase, pk=pk)
    before = target.audit_data()
    form = TargetDatabaseForm(request.POST or None, instance=target)
    if request.method == "POST" and form.is_valid():
        password_changed = bool(form.cleaned_data.get("password")) or bool(form.cleaned_data.get("clear_password"))
        with transaction.atomic():
            target = form.save()
            after = target.audit_data()
            changes = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
            repointed = {k: v for k, v in changes.items() if k in TargetDatabase.CONNECTION_FIELDS}
            returned = announce_repointed(target, request.user, repointed) if repointed else []
            if password_changed:
                changes["password"] = "changed"
            AuditEvent.record(request.user, "target.changed", target,
                              data={"changes": changes, "plans_returned_to_draft": returned})
        messages.success(request, f"Target {target.name} saved."
                         + (f" {len(returned)} open plan(s) went back to draft and their sign-offs were voided: "
                            "they were reviewed against the old connection." if returned else ""))
        return redirect("target_list")
    return render(request, "targets/form.html", {"form": form, "target": target})


@role_required(DBA)
@require_http_methods(["GET", "POST"])
def target_delete(request, pk):
    target = get_object_or_404(TargetDatabase, pk=pk)
    if request.method == "POST":
        name = target.name
        with transaction.atomic():
            AuditEvent.record(request.user, "target.deleted", target, data=target.audit_data())
            target.delete()
        messages.success(request, f"Target {name} deleted.")
        return redirect("target_list")
    return render(request, "targets/confirm_delete.html", {"target": target})


@sensitive_post_parameters("password")
@role_required(DBA)
@require_POST
def target_test_connection(request, pk=None):
    """HTMX: try the submitted connection settings and show the server version or the exact error.
    Every attempt is audited (never the password)."""
    instance = get_object_or_404(TargetDatabase, pk=pk) if pk else None
    form = TargetDatabaseForm(request.POST, instance=instance)
    form.is_valid()  # the name may clash or notes be missing; the connection fields are what matter here
    missing = [f for f in ("host", "port", "dbname", "user", "sslmode") if f not in form.cleaned_data]
    if missing:
        return render(request, "targets/_test_result.html",
                      {"ok": False, "error": "Fill in " + ", ".join(missing) + " first."})
    context, source = {"ok": False}, "none"
    try:
        _, source = form.password_for_test()
        connection = form.connection_for_test()
    except forms.ValidationError as exc:
        context["error"], context["refused"] = exc.messages[0], True
    else:
        try:
            context["version"] = connection.server_version()
            context["ok"] = True
        except (TargetConnectionError, SecretDecryptionError) as exc:
            context["error"] = str(exc)
        except Exception as exc:  # a server error after connecting: show it, never a 500
            context["error"] = f"{exc.__class__.__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    _audit_test_connection(request.user, instance, form, source, context)
    return render(request, "targets/_test_result.html", context)


def _audit_test_connection(user, instance, form, source: str, context: dict) -> None:
    data = form.cleaned_data
    outcome = "connected" if context["ok"] else ("refused" if context.get("refused") else "failed")
    error = context.get("error", "")
    secret = data.get("password") or ""
    if secret and secret in error:  # never seen from libpq, but the audit trail must not be where it first appears
        error = error.replace(secret, "********")
    AuditEvent.record(user, "target.connection_tested", instance, object_type="targetdatabase", data={
        "target": instance.pk if instance else None, "name": data.get("name", ""),
        "host": data["host"], "port": data["port"], "dbname": data["dbname"], "user": data["user"],
        "sslmode": data["sslmode"], "password": source, "outcome": outcome, "error": error[:300],
        "server_version": context.get("version", ""),
    })


@readers
def target_health(request, pk):
    target = get_object_or_404(TargetDatabase, pk=pk)
    try:
        report = DatabaseHealthCheck(target.connection()).run()
    except SecretDecryptionError as exc:
        report = None
        messages.error(request, str(exc))
    if report is not None:
        target.record_health(report.to_dict())
    return render(request, "targets/health.html", {"target": target, "report": report})


@role_required(DBA, MANAGER)
@require_POST
def target_refresh_health(request, pk):
    """Queue a health refresh on the django-q2 cluster; the row polls until it lands."""
    target = get_object_or_404(TargetDatabase, pk=pk)
    since = target.last_health_at.isoformat() if target.last_health_at else ""
    async_task("targets.tasks.refresh_target_health", target.pk, task_name=f"health:{target.pk}",
               group="health")
    target.refresh_from_db()
    refreshing = (target.last_health_at.isoformat() if target.last_health_at else "") == since
    return render(request, "targets/_target_row.html", {"target": target, "refreshing": refreshing, "since": since})


@readers
def target_health_row(request, pk):
    target = get_object_or_404(TargetDatabase, pk=pk)
    since = request.GET.get("since", "")
    current = target.last_health_at.isoformat() if target.last_health_at else ""
    refreshing = bool(request.GET.get("waiting")) and current == since
    return render(request, "targets/_target_row.html", {"target": target, "refreshing": refreshing, "since": since})
