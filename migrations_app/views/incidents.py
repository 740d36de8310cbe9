"""Incident history (engineers read; DBAs and managers update) and the Alerts page."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dataflow_site.roles import DBA, MANAGER, readers, role_required
from migrations_app import permissions
from migrations_app.gate import current_analysis
from migrations_app.incidents import update_incident
from migrations_app.models import Alert, Incident, Severity
from targets.models import AuditEvent, TargetDatabase


class IncidentFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Text")
    severity = forms.ChoiceField(required=False, choices=[("", "any")] + Severity.choices)
    status = forms.ChoiceField(required=False, choices=[("", "any")] + Incident.Status.choices)
    target = forms.ModelChoiceField(required=False, queryset=TargetDatabase.objects.all(), empty_label="any")
    table = forms.CharField(required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class IncidentUpdateForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "keep")] + Incident.Status.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


@readers
def incident_list(request):
    form = IncidentFilterForm(request.GET or None)
    incidents = Incident.objects.select_related("plan", "target", "execution")
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            incidents = incidents.filter(Q(title__icontains=data["q"]) | Q(summary__icontains=data["q"])
                                         | Q(notes__icontains=data["q"]) | Q(plan__title__icontains=data["q"]))
        for name in ("severity", "status", "target"):
            if data[name]:
                incidents = incidents.filter(**{name: data[name]})
        if data["table"]:
            incidents = incidents.filter(tables_affected__icontains=data["table"])
        if data["since"]:
            incidents = incidents.filter(opened_at__date__gte=data["since"])
        if data["until"]:
            incidents = incidents.filter(opened_at__date__lte=data["until"])
    page = Paginator(incidents, 25).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    template = "migrations_app/incidents/list.html#results" if request.htmx else "migrations_app/incidents/list.html"
    return render(request, template, {"form": form, "page": page, "querystring": params.urlencode()})


@readers
def incident_detail(request, pk):
    incident = get_object_or_404(Incident.objects.select_related("plan__author", "target", "execution"), pk=pk)
    plan = incident.plan
    return render(request, "migrations_app/incidents/detail.html", {
        "incident": incident, "plan": plan, "execution": incident.execution,
        "timeline": _timeline(incident), "analysis": current_analysis(plan) or plan.analyses.first(),
        "sign_offs": plan.sign_offs.select_related("user"), "alerts": incident.alerts.all(),
        "can_update": permissions.can_update_incident(request.user, incident), "form": IncidentUpdateForm()})


def _timeline(incident: Incident) -> list[dict]:
    """The incident's own entries merged with the plan's audit trail (analysis, sign-offs,
    execution events), oldest first, each with a link where one exists."""
    entries = [dict(e, link=incident.get_absolute_url()) for e in incident.timeline]
    plan = incident.plan
    events = AuditEvent.objects.filter(
        Q(object_type="migrationplan", object_id=str(plan.pk))
        | Q(object_type="execution", object_id__in=[str(pk) for pk in plan.executions.values_list("pk", flat=True)]))
    for event in events.order_by("created_at", "id")[:200]:
        link = plan.get_absolute_url()
        if event.object_type == "execution":
            link = reverse("execution_detail", args=[event.object_id])
        elif "signed_off" in event.verb or event.verb in ("plan.rejected", "plan.approved"):
            link = plan.get_absolute_url() + "?tab=history"
        elif "analys" in event.verb:
            link = plan.get_absolute_url() + "?tab=risk"
        entries.append({"at": event.created_at.isoformat(timespec="seconds"), "kind": event.object_type,
                        "text": event.verb, "actor": event.actor_name, "link": link})
    return sorted(entries, key=lambda e: e["at"])


@role_required(DBA, MANAGER)
@require_POST
def incident_update(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    form = IncidentUpdateForm(request.POST)
    if form.is_valid():
        update_incident(incident, request.user, status=form.cleaned_data["status"], note=form.cleaned_data["note"])
        messages.info(request, "Incident updated.")
    else:
        messages.error(request, "Invalid update: " + "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
    return redirect(incident)


@readers
def alert_list(request):
    alerts = Alert.objects.select_related("incident", "execution__plan")
    severity = request.GET.get("severity", "")
    if severity in Severity.values:
        alerts = alerts.filter(severity=severity)
    status = request.GET.get("status", "")
    if status in Alert.Status.values:
        alerts = alerts.filter(status=status)
    page = Paginator(alerts, 25).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "migrations_app/alerts/list.html", {
        "page": page, "querystring": params.urlencode(), "severities": Severity.choices,
        "statuses": Alert.Status.choices, "severity": severity, "status": status})
