from django import forms
from django.core.validators import ProhibitNullCharactersValidator

from migrations_app.plan_sql import AUTHOR_ROLLBACK_NOTE
from targets.models import TargetDatabase


class AuditFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Text")
    actor = forms.CharField(required=False)
    verb = forms.CharField(required=False)
    object_type = forms.CharField(required=False, label="Object type")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class SqlField(forms.CharField):
    """SQL text. NUL characters are left to the statement checks, which name their line and
    position (Django's own validator would only say "Null characters are not allowed")."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


class PlanCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    target = forms.ModelChoiceField(queryset=TargetDatabase.objects.all())
    schema = forms.CharField(max_length=63, initial="public",
                             help_text="Schema that unqualified table names refer to.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    sql = SqlField(label="SQL script", widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "data-sql-editor": ""}),
                   help_text="One or more statements separated by semicolons. Each becomes an operation.")

    def clean(self):
        data = super().clean()
        if data.get("sql"):
            from migrations_app.plan_sql import ScriptError, script_to_operations

            target = data.get("target")
            try:
                self.operations = script_to_operations(data["sql"], data.get("schema") or "public", target)
            except ScriptError as exc:
                self.add_error("sql", str(exc))
        return data


class ReplaceSqlForm(forms.Form):
    sql = SqlField(label="SQL script", widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "data-sql-editor": ""}))

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan

    def clean_sql(self):
        from migrations_app.plan_sql import ScriptError, script_to_operations

        try:
            self.operations = script_to_operations(self.cleaned_data["sql"], self.plan.schema, self.plan.target)
        except ScriptError as exc:
            raise forms.ValidationError(str(exc))
        return self.cleaned_data["sql"]


class OperationForm(forms.Form):
    sql = SqlField(widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "data-sql-editor": ""}))
    rollback_sql = SqlField(required=False, label="Rollback SQL",
                                   widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "data-sql-editor": ""}),
                                   help_text="Leave blank to have one suggested where it can be derived.")

    def __init__(self, *args, plan=None, operation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.editing = operation

    def _rollback_to_use(self, data) -> str:
        """The edit form comes pre-filled with the stored rollback. When the SQL changes and that
        rollback was a suggestion derived from the old SQL (not the author's own), it no longer
        undoes the new statement: derive a fresh one instead of saving the stale text as the author's."""
        rollback = data.get("rollback_sql", "")
        old = self.editing
        if (old is not None and data["sql"].strip().rstrip(";") != old.sql.strip().rstrip(";")
                and old.rollback_note != AUTHOR_ROLLBACK_NOTE
                and rollback.strip().rstrip(";") == old.rollback_sql.strip().rstrip(";")):
            return ""
        return rollback

    def clean(self):
        data = super().clean()
        if data.get("sql"):
            from migrations_app.plan_sql import ScriptError, single_operation

            try:
                self.operation = single_operation(data["sql"], self._rollback_to_use(data), self.plan.schema, self.plan.target)
            except ScriptError as exc:
                self.add_error("sql", str(exc))
        return data


class PlanDetailsForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    statement_timeout_seconds = forms.IntegerField(
        required=False, min_value=1, max_value=24 * 3600, label="Statement timeout (seconds)",
        help_text="Only if a statement needs longer than the executor's default. Reviewed like the SQL: "
                  "changing it voids the sign-offs.")


class SignOffForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("review", "Reviewed"), ("reject", "Reject")])
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # The review version the page showed. Not required here: a missing one reaches the workflow as
    # "" and is refused there, after the who-may-sign checks.
    version = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    # an approval over a failed rehearsal of this SQL is a decision taken knowingly, and recorded as such
    acknowledge_failed_rehearsal = forms.BooleanField(required=False)


class ChecklistForm(forms.Form):
    backup_completed = forms.BooleanField(required=False, label="Full database backup completed")
    backup_verified = forms.BooleanField(required=False, label="Backup integrity verified")
    rto_confirmed = forms.BooleanField(required=False, label="Recovery time objective (RTO) confirmed")
    rpo_confirmed = forms.BooleanField(required=False, label="Recovery point objective (RPO) confirmed")


class PlanFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    status = forms.ChoiceField(required=False)
    risk = forms.ChoiceField(required=False, label="Risk")
    target = forms.ModelChoiceField(required=False, queryset=TargetDatabase.objects.all(), empty_label="any")
    author = forms.CharField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from migrations_app.models import PlanStatus, RiskLevel

        self.fields["status"].choices = [("", "any")] + list(PlanStatus.choices)
        self.fields["risk"].choices = [("", "any")] + list(RiskLevel.choices)
