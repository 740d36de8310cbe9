"""Pages: one's API tokens (create, shown once, revoke), a target's ledger with its schema drift
(accept as baseline), and the outgoing webhook deliveries."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from dataflow_site.roles import readers
from integrations import drift, ledger
from integrations.models import ApiToken, DriftFinding, WebhookDelivery
from migrations_app import permissions
from targets.models import AuditEvent, TargetDatabase


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where it is used, e.g. 'GitHub Actions: shop repo'.")
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)


@never_cache  # the new token is on this response only
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    permissions.require(permissions.can_manage_api_tokens(request.user))
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        scope = form.cleaned_data["scope"]
        if scope == ApiToken.Scope.WRITE:
            permissions.require(permissions.can_issue_write_token(request.user))
        with transaction.atomic():
            row, new_token = ApiToken.issue(request.user, form.cleaned_data["name"], scope)
            AuditEvent.record(request.user, "api_token.created", row,
                              data={"token": str(row), "name": row.name, "scope": scope})
        form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "integrations/tokens.html", {
        "form": form, "tokens": tokens, "new_token": new_token,
        "may_write": permissions.can_issue_write_token(request.user)})


@login_required
def token_revoke(request, pk: int):
    permissions.require(permissions.can_manage_api_tokens(request.user))  # who asks, before the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)  # another user's token is a 404
    with transaction.atomic():
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            AuditEvent.record(request.user, "api_token.revoked", token, data={"token": str(token), "name": token.name})
            messages.success(request, f"Token {token} revoked: it is refused from now on.")
    return redirect("api_tokens")


@readers
def target_ledger(request, pk: int):
    target = get_object_or_404(TargetDatabase, pk=pk)
    entries = ledger.history(target)
    findings = list(DriftFinding.objects.filter(target=target).select_related("reference__plan", "accepted_by", "alert")[:20])
    shown = next((f for f in findings if str(f.pk) == request.GET.get("drift", "")), None) or next(
        (f for f in findings if f.status == DriftFinding.Status.OPEN), None)
    reference = drift.reference_entry(target)
    return render(request, "integrations/ledger.html", {
        "target": target, "entries": list(reversed(entries)), "applied": sorted(ledger.applied_versions(target)),
        "check": getattr(target, "drift_check", None), "findings": findings, "shown": shown, "reference": reference,
        "unsnapshotted": drift.unsnapshotted_since(target, reference),
        "may_accept": permissions.can_accept_drift(request.user, shown) if shown else None})


class AcceptDriftForm(forms.Form):
    reason = forms.CharField(max_length=500, help_text="Why this change is the schema from now on (audited).")


@login_required
def drift_accept(request, pk: int, finding_id: int):
    permissions.require(permissions.can_accept_drift(request.user))  # who asks, before the method or the row
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    finding = get_object_or_404(DriftFinding, pk=finding_id, target_id=pk)
    form = AcceptDriftForm(request.POST)
    try:
        entry = drift.accept(finding, request.user, form.data.get("reason", ""))
    except permissions.WorkflowError as exc:
        messages.error(request, f"Nothing was recorded: {exc}.")
    else:
        messages.success(request, f"The live schema of {finding.target.name} is the new baseline "
                                  f"(ledger entry #{entry.pk}); drift is measured against it from now on.")
    return redirect(f"{redirect('target_ledger', pk=pk).url}?drift={finding.pk}")


@readers
def webhook_list(request):
    deliveries = WebhookDelivery.objects.all()
    status = request.GET.get("status", "")
    if status in WebhookDelivery.Status.values:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, 50).get_page(request.GET.get("page"))
    return render(request, "integrations/webhooks.html", {
        "page": page, "status": status, "statuses": WebhookDelivery.Status.choices,
        "endpoints": len(settings.DATAFLOW_WEBHOOK_URLS), "signed": bool(settings.DATAFLOW_WEBHOOK_SECRET)})
