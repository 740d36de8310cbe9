"""The review policy page (DBAs edit, every role reads, history kept) and the rule pages."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dataflow_site.roles import ALL_ROLES, readers, role_required
from migrations_app import permissions
from migrations_app.engines.lint import RULES, RULES_BY_ID
from migrations_app.engines.lint.examples import EXAMPLES
from migrations_app.engines.lint.parity import ATLAS, SQUAWK, names_elsewhere
from migrations_app.engines.lint.review_policy import ENVIRONMENTS, PROTECTED, default_setting, resolve
from migrations_app.policy_models import ReviewPolicyVersion
from migrations_app.review_policies import (STARTER_TEXT, PolicyError, current_version, policies_by_environment,
                                            save_policy)


class PolicyForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 24, "class": "mono", "spellcheck": "false"}),
                           max_length=200_000, label="Policy (TOML)")
    comment = forms.CharField(max_length=500, required=False, label="Why this change")


def _page(request, form, status=200):
    version = current_version()
    policies = policies_by_environment(version)
    rows = [{"rule": rule_id, "protected": rule_id in PROTECTED, "default": default_setting(rule_id).state,
             "by_env": [policies[env].setting(rule_id) for env in ENVIRONMENTS]} for rule_id in sorted(RULES_BY_ID)]
    return render(request, "migrations_app/policy/review_policy.html", {
        "form": form, "version": version, "history": ReviewPolicyVersion.objects.select_related("author")[:50],
        "environments": ENVIRONMENTS, "rows": rows, "policies": policies,
        "may_edit": permissions.can_edit_review_policy(request.user)}, status=status)


@role_required(*ALL_ROLES)
def review_policy(request):
    version = current_version()
    if request.method != "POST":
        return _page(request, PolicyForm(initial={"text": version.text if version else STARTER_TEXT}))
    permissions.require(permissions.can_edit_review_policy(request.user))  # who asks, before the form
    form = PolicyForm(request.POST)
    if not form.is_valid():
        return _page(request, form, 400)
    try:
        saved = save_policy(request.user, form.cleaned_data["text"], form.cleaned_data["comment"])
    except PolicyError as exc:
        for problem in exc.problems:
            form.add_error("text", problem)
        return _page(request, form, 400)
    messages.success(request, f"Review policy v{saved.pk} is in force. Plans analysed under an earlier policy need "
                              "a new analysis before the gate counts them.")
    return redirect("review_policy")


@readers
def review_policy_download(request, pk=None):
    version = get_object_or_404(ReviewPolicyVersion, pk=pk) if pk else current_version()
    text = version.text if version else STARTER_TEXT
    response = HttpResponse(text, content_type="application/toml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dataflow-policy-v{version.pk if version else 0}.toml"'
    return response


@readers
def rule_list(request):
    rules = [{"rule": r, "default": default_setting(r.id).state, "protected": r.id in PROTECTED,
              "names": names_elsewhere(r.id)} for r in sorted(RULES, key=lambda r: r.id)]
    return render(request, "migrations_app/policy/rule_list.html", {"rules": rules, "squawk": SQUAWK, "atlas": ATLAS})


@readers
def rule_detail(request, rule_id):
    ours = resolve(rule_id)
    if ours != rule_id and ours in RULES_BY_ID:
        return redirect("rule_detail", rule_id=ours)
    rule = RULES_BY_ID.get(rule_id)
    if rule is None:
        raise Http404("no such rule")
    fire, quiet = EXAMPLES.get(rule_id, ((), ()))
    return render(request, "migrations_app/policy/rule_detail.html", {
        "rule": rule, "default": default_setting(rule_id).state, "protected": rule_id in PROTECTED,
        "names": names_elsewhere(rule_id), "fire": fire, "quiet": quiet,
        "policies": {env: p.setting(rule_id) for env, p in policies_by_environment().items()}})
