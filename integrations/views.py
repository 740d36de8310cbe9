"""Pages: one's API tokens (create, shown once, revoke) and a target's ledger."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dataflow_site.roles import readers
from integrations import ledger
from integrations.models import ApiToken
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
@require_POST
def token_revoke(request, pk: int):
    permissions.require(permissions.can_manage_api_tokens(request.user))
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
    return render(request, "integrations/ledger.html", {
        "target": target, "entries": list(reversed(entries)), "applied": sorted(ledger.applied_versions(target))})
