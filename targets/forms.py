from django import forms

from targets.engines.connections import TargetConnection
from targets.models import TargetDatabase

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
        data = self.cleaned_data
        password, _ = self.password_for_test()
        return TargetConnection.from_target(
            type("Submitted", (), {
                "host": data["host"], "port": data["port"], "dbname": data["dbname"], "user": data["user"],
                "password": password, "sslmode": data["sslmode"],
            })()
        )
