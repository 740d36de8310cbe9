from django import forms

from migrations_app.models import TargetDatabase


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["password"].help_text = "Stored encrypted; never shown again."
            del self.fields["clear_password"]

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

    def connection_for_test(self):
        """A TargetConnection from the submitted values (the stored password when left blank)."""
        from migrations_app.engines.connections import TargetConnection

        data = self.cleaned_data
        password = data.get("password") or ("" if data.get("clear_password") else (self.instance.password if self.instance.pk else ""))
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
