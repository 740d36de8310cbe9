from django import forms
from django.core.validators import ProhibitNullCharactersValidator

from migrations_app.models import TargetDatabase
from migrations_app.plan_sql import AUTHOR_ROLLBACK_NOTE


_SSL_STRENGTH = [value for value, _ in TargetDatabase.SSLMode.choices]  # weakest first
PASSWORD_AGAIN = ("Enter the password again: {changed} changed, and the stored password is only sent to the "
                  "server it was stored for.")


class TargetDatabaseForm(forms.ModelForm):
    """The password is write-only: never rendered back, blank keeps the stored one."""

    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave blank to keep the stored password.",
    )
    clear_password = forms.BooleanField(required=False, label="Remove the stored password")

    class Meta:
        model = TargetDatabase
        fields = ["name", "environment", "host", "port", "dbname", "user", "password", "sslmode",
                  "staging_host", "staging_port", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        labels = {"sslmode": "SSL mode", "dbname": "Database"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Validation writes the submitted values into the instance: keep what was stored.
        self.stored = {f: getattr(self.instance, f) for f in (*TargetDatabase.CONNECTION_FIELDS, "sslmode")}
        self.has_stored_password = bool(self.instance.pk and self.instance.password_encrypted)
        if not self.instance.pk:
            self.fields["password"].help_text = "Stored encrypted; never shown again."
            del self.fields["clear_password"]
        else:
            self.fields["password"].help_text = ("Leave blank to keep the stored password. Required again when "
                                                 "host, port, database or user change, or SSL mode is weakened.")

    def repointed_fields(self) -> list[str]:
        """Connection settings that differ from the stored ones, as labels (weaker SSL counts too:
        the stored password would then travel with less protection than it was stored for)."""
        if not self.instance.pk:
            return []
        data = self.cleaned_data
        changed = [str(self.fields[f].label or f) for f in TargetDatabase.CONNECTION_FIELDS
                   if f in data and data[f] != self.stored[f]]
        if "sslmode" in data and _SSL_STRENGTH.index(data["sslmode"]) < _SSL_STRENGTH.index(self.stored["sslmode"]):
            changed.append("SSL mode (weaker)")
        return changed

    def clean(self):
        data = super().clean()
        if self.has_stored_password and not data.get("password") and not data.get("clear_password"):
            changed = self.repointed_fields()
            if changed:
                self.add_error("password", PASSWORD_AGAIN.format(changed=", ".join(changed).lower()))
        return data

    def clean_port(self):
        port = self.cleaned_data["port"]
        if not 1 <= port <= 65535:
            raise forms.ValidationError("A port is a number from 1 to 65535.")
        return port

    def save(self, commit=True):
        target = super().save(commit=False)
        new_password = self.cleaned_data.get("password")
        if self.cleaned_data.get("clear_password"):
            target.password = ""
        elif new_password:
            target.password = new_password
        if commit:
            target.save()
        return target

    def password_for_test(self) -> tuple[str, str]:
        """(password, where it came from: entered / stored / none). The stored password only
        ever goes to the server it was stored for."""
        data = self.cleaned_data
        if data.get("password"):
            return data["password"], "entered"
        if data.get("clear_password") or not self.has_stored_password:
            return "", "none"
        if self.repointed_fields():
            raise forms.ValidationError(PASSWORD_AGAIN.format(changed=", ".join(self.repointed_fields()).lower()))
        return self.instance.password, "stored"

    def connection_for_test(self):
        """A TargetConnection from the submitted values (the stored password when left blank and
        nothing that says where it goes changed)."""
        from migrations_app.engines.connections import TargetConnection

        data = self.cleaned_data
        password, _ = self.password_for_test()
        return TargetConnection.from_target(
            type("Submitted", (), {
                "host": data["host"], "port": data["port"], "dbname": data["dbname"], "user": data["user"],
                "password": password, "sslmode": data["sslmode"],
            })()
        )


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
    sql = SqlField(label="SQL script", widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
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
    sql = SqlField(label="SQL script", widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}))

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
    sql = SqlField(widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}))
    rollback_sql = SqlField(required=False, label="Rollback SQL",
                                   widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
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
