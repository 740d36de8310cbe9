from django.db import migrations, models


def schema_only(apps, schema_editor):
    """Rehearsals before data checks compared the schema only: keep that as schema_verified and
    stop counting them as a verified rollback (the CRITICAL gate needs the data checked too)."""
    Rehearsal = apps.get_model("staging_app", "Rehearsal")
    Rehearsal.objects.filter(rollback_verified=True).update(
        rollback_schema_verified=True, rollback_verified=False, rollback_data_status="not_checked",
        rollback_data_summary="data not checked: rehearsed before rollbacks checked their data")


class Migration(migrations.Migration):
    dependencies = [("staging_app", "0004_target_masking_rules")]

    operations = [
        migrations.AddField("rehearsal", "rollback_schema_verified", models.BooleanField(default=False)),
        migrations.AddField("rehearsal", "rollback_data_status", models.CharField(blank=True, max_length=20)),
        migrations.AddField("rehearsal", "rollback_data_summary", models.TextField(blank=True)),
        migrations.RunPython(schema_only, migrations.RunPython.noop),
    ]
