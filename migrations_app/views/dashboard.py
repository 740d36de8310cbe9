from django.core.paginator import Paginator
from django.shortcuts import render

from dataflow_site.roles import readers
from migrations_app.forms import AuditFilterForm
from migrations_app.views.plans import dashboard_context
from targets.models import AuditEvent, TargetDatabase


@readers
def dashboard(request):
    targets = TargetDatabase.objects.all()
    context = {"targets": targets}
    context.update(dashboard_context(request))
    return render(request, "migrations_app/dashboard.html", context)


@readers
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            from django.db.models import Q

            events = events.filter(Q(object_repr__icontains=data["q"]) | Q(verb__icontains=data["q"])
                                   | Q(object_id=data["q"]) | Q(actor_name__icontains=data["q"]))
        if data["actor"]:
            events = events.filter(actor_name__icontains=data["actor"])
        if data["verb"]:
            events = events.filter(verb__icontains=data["verb"])
        if data["object_type"]:
            events = events.filter(object_type=data["object_type"])
        if data["since"]:
            events = events.filter(created_at__date__gte=data["since"])
        if data["until"]:
            events = events.filter(created_at__date__lte=data["until"])
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    object_types = AuditEvent.objects.order_by().values_list("object_type", flat=True).distinct()
    context = {"form": form, "page": page, "object_types": sorted(object_types), "querystring": _without_page(request)}
    if request.htmx:
        return render(request, "migrations_app/audit.html#results", context)
    # The whole chain, on every full page load: a cached "intact" would hide tampering since.
    context["chain"] = AuditEvent.verify_chain()
    return render(request, "migrations_app/audit.html", context)


def _without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
