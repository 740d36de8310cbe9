from django.db import migrations, models


def schema_only(apps, schema_editor):
    """Rollbacks recorded before data checks existed compared the schema only: keep that as
    schema_verified and stop calling them verified."""
    Execution = apps.get_model("migrations_app", "Execution")
    Execution.objects.filter(kind="rollback").exclude(verified=None).update(schema_verified=models.F("verified"))
    Execution.objects.filter(kind="rollback", verified=True).update(verified=False)


class Migration(migrations.Migration):
    dependencies = [("migrations_app", "0005_execution_journal_and_partial_outcomes")]

    operations = [
        migrations.AddField("execution", "schema_verified", models.BooleanField(blank=True, null=True)),
        migrations.AddField("execution", "data_verified", models.BooleanField(blank=True, null=True)),
        migrations.AddField("execution", "data_verification", models.JSONField(blank=True, null=True)),
        migrations.RunPython(schema_only, migrations.RunPython.noop),
    ]
