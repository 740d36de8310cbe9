from django import forms

from migrations_app.models import TargetDatabase
from staging_app.engines.masking import STRATEGIES, MaskingRuleError, parse_masking_rules

MASKING_PRESETS = [("none", "No masking"), ("custom", "Mask with the rules below")]


class StagingCreateForm(forms.Form):
    target = forms.ModelChoiceField(queryset=TargetDatabase.objects.all())
    data_sample_size = forms.FloatField(min_value=0.001, max_value=1.0, initial=0.1,
                                        help_text="Fraction of each sampled table (0.1 = 10%). Referenced parent rows always come along.")
    tables_filter = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text="Tables to sample, one per line or comma separated (schema.table). Blank: all tables.")
    masking_preset = forms.ChoiceField(choices=MASKING_PRESETS, initial="none")
    masking_rules = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3, "placeholder": "customers.email fake_email\ncustomers.full_name fixed Jane Doe"}),
        help_text=f"One rule a line: table.column strategy [value]; strategies: {', '.join(STRATEGIES)}.")

    def clean_tables_filter(self):
        text = self.cleaned_data["tables_filter"].replace(",", "\n")
        names = [line.strip() for line in text.splitlines() if line.strip()]
        return names or None

    def clean(self):
        data = super().clean()
        rules = {}
        if data.get("masking_preset") == "custom":
            for line in (data.get("masking_rules") or "").splitlines():
                parts = line.split(None, 2)
                if not parts:
                    continue
                if len(parts) < 2:
                    self.add_error("masking_rules", f"'{line.strip()}': give a column and a strategy")
                    continue
                spec = {"strategy": parts[1]}
                if len(parts) == 3:
                    spec["value"] = parts[2]
                rules[parts[0]] = spec
            try:
                parse_masking_rules(rules)
            except MaskingRuleError as exc:
                self.add_error("masking_rules", str(exc))
        data["parsed_masking_rules"] = rules
        return data
