from django import forms

from staging_app.engines.masking import STRATEGIES, MaskingRuleError, parse_masking_rules
from targets.models import TargetDatabase

MASKING_PRESETS = [("target", "The target's saved masking rules"), ("custom", "Mask with the rules below"),
                   ("none", "No masking")]
RULES_HELP = f"One rule a line: table.column strategy [value]; strategies: {', '.join(STRATEGIES)}."
RULES_PLACEHOLDER = "customers.email fake_email\ncustomers.full_name fixed Jane Doe"


def parse_rules_text(text: str) -> dict:
    """``table.column strategy [value]`` lines -> the engine's rules mapping. Raises
    ``forms.ValidationError`` naming the bad line."""
    rules = {}
    for line in (text or "").splitlines():
        parts = line.split(None, 2)
        if not parts:
            continue
        if len(parts) < 2:
            raise forms.ValidationError(f"'{line.strip()}': give a column and a strategy")
        spec = {"strategy": parts[1]}
        if len(parts) == 3:
            spec["value"] = parts[2]
        rules[parts[0]] = spec
    try:
        parse_masking_rules(rules)
    except MaskingRuleError as exc:
        raise forms.ValidationError(str(exc)) from None
    return rules


class StagingCreateForm(forms.Form):
    target = forms.ModelChoiceField(queryset=TargetDatabase.objects.all())
    data_sample_size = forms.FloatField(min_value=0.001, max_value=1.0, initial=0.1,
                                        help_text="Fraction of each sampled table (0.1 = 10%). Referenced parent rows always come along.")
    tables_filter = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text="Tables to sample, one per line or comma separated (schema.table). Blank: all tables.")
    masking_preset = forms.ChoiceField(choices=MASKING_PRESETS, initial="target", label="Masking")
    masking_rules = forms.CharField(required=False, help_text=RULES_HELP,
                                    widget=forms.Textarea(attrs={"rows": 3, "placeholder": RULES_PLACEHOLDER}))

    def clean_tables_filter(self):
        text = self.cleaned_data["tables_filter"].replace(",", "\n")
        names = [line.strip() for line in text.splitlines() if line.strip()]
        return names or None

    def clean(self):
        data = super().clean()
        rules = {}
        preset, target = data.get("masking_preset"), data.get("target")
        if preset == "custom":
            try:
                rules = parse_rules_text(data.get("masking_rules"))
            except forms.ValidationError as exc:
                self.add_error("masking_rules", exc)
        elif preset == "target" and target is not None:
            saved = getattr(target, "masking", None)
            if saved is None or not saved.rules:
                # never copy personal data unmasked by accident: saying "no masking" is a choice
                self.add_error("masking_preset", f"{target.name} has no saved masking rules: save some for it, "
                                                 "write rules below, or choose \"No masking\".")
            else:
                rules = saved.rules
        data["parsed_masking_rules"] = rules
        return data


class MaskingRulesForm(forms.Form):
    rules = forms.CharField(required=False, label="Masking rules", help_text=RULES_HELP,
                            widget=forms.Textarea(attrs={"rows": 8, "placeholder": RULES_PLACEHOLDER}))

    def clean_rules(self):
        return parse_rules_text(self.cleaned_data["rules"])
