"""Forms of the baselines pages."""

from __future__ import annotations

from django import forms

from baselines_app.engines.query_sets import ALL_TYPES
from baselines_app.models import BaselineRun
from staging_app.models import StagingEnvironment
from targets.models import TargetDatabase

TYPE_CHOICES = [(t, t) for t in ALL_TYPES]


class MeasureForm(forms.Form):
    target = forms.ModelChoiceField(queryset=TargetDatabase.objects.all())
    staging_environment = forms.ModelChoiceField(
        queryset=StagingEnvironment.objects.filter(status=StagingEnvironment.Status.READY), required=False,
        help_text="Measure this staging copy instead of the target itself.")
    label = forms.CharField(max_length=100, initial="production")
    schema = forms.CharField(max_length=63, initial="public")
    tables = forms.CharField(required=False, help_text="Comma-separated; blank measures every table of the schema.")
    query_types = forms.MultipleChoiceField(choices=TYPE_CHOICES, initial=["SELECT"], widget=forms.CheckboxSelectMultiple,
                                            help_text="UPDATE / INSERT / DELETE run in rolled-back transactions, staging only.")
    replay_of = forms.ModelChoiceField(queryset=BaselineRun.objects.filter(status=BaselineRun.Status.DONE), required=False,
                                       help_text="Replay that run's exact queries and keys (the 'after' side).")
    compare_with = forms.ModelChoiceField(queryset=BaselineRun.objects.filter(status=BaselineRun.Status.DONE), required=False,
                                          help_text="Validate the new run against this one when it finishes.")

    def clean(self):
        data = super().clean()
        target, env = data.get("target"), data.get("staging_environment")
        if target and env and env.target_id != target.pk:
            self.add_error("staging_environment", "This staging copy belongs to another target.")
        writes = set(data.get("query_types") or []) - {"SELECT"}
        if target and target.is_production and env is None and writes:
            self.add_error("query_types", "Production is measured read-only: choose SELECT, or a staging copy.")
        data["tables_filter"] = [t.strip() for t in (data.get("tables") or "").split(",") if t.strip()] or None
        return data


class ResultFilterForm(forms.Form):
    table = forms.CharField(required=False)
    query_type = forms.ChoiceField(choices=[("", "any")] + TYPE_CHOICES, required=False)

    def apply(self, items: list, *, table_key="table_name", type_key="query_type") -> list:
        if not self.is_valid():
            return items
        table, query_type = self.cleaned_data["table"], self.cleaned_data["query_type"]
        return [i for i in items if (not table or _get(i, table_key) == table)
                and (not query_type or _get(i, type_key) == query_type)]


def _get(item, key):
    return item[key] if isinstance(item, dict) else getattr(item, key)


class MonitorForm(forms.Form):
    """Choose the production tables whose read baselines are re-measured on a schedule."""

    target = forms.ModelChoiceField(queryset=TargetDatabase.objects.filter(environment="production"))
    tables = forms.CharField(required=False, help_text="Comma-separated; blank monitors every table of the latest baseline.")
    minutes = forms.IntegerField(min_value=5, max_value=24 * 60, initial=60, label="Every (minutes)")

    def clean_tables(self):
        return [t.strip() for t in self.cleaned_data["tables"].split(",") if t.strip()] or None
