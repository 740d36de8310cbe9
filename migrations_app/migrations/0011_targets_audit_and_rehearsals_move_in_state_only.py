"""State only: plans and incidents point at targets.TargetDatabase, TargetDatabase and AuditEvent
leave this app (targets took them over with their tables), and Rehearsal joins it from staging_app
keeping the table ``staging_app_rehearsal``. No table is created, altered or dropped; the content
types (and so the groups' permissions) follow the models."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = [("migrations_app", "targets", "targetdatabase"), ("migrations_app", "targets", "auditevent"),
         ("staging_app", "migrations_app", "rehearsal")]


def move_content_types(apps, schema_editor, *, backwards=False):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for old, new, model in MOVED:
        old, new = (new, old) if backwards else (old, new)
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, backwards=True)


class Migration(migrations.Migration):

    dependencies = [
        ('baselines_app', '0002_target_fk_to_targets'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('migrations_app', '0010_plan_statement_timeout'),
        ('staging_app', '0006_target_fk_to_targets_and_rehearsal_to_plans'),
        ('targets', '0001_targets_and_audit_take_over_their_tables'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='migrationplan',
                name='target',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='plans', to='targets.targetdatabase'),
            ),
            migrations.AlterField(
                model_name='incident',
                name='target',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='incidents', to='targets.targetdatabase'),
            ),
            migrations.CreateModel(
                name='Rehearsal',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('sql_hash', models.CharField(db_index=True, max_length=64)),
                    ('status', models.CharField(choices=[('QUEUED', 'Queued'), ('RUNNING', 'Running'), ('PASSED', 'Passed'), ('FAILED', 'Failed')], db_index=True, default='QUEUED', max_length=8)),
                    ('measure_baselines', models.BooleanField(default=True)),
                    ('sample_fraction', models.FloatField(blank=True, null=True)),
                    ('statements', models.JSONField(blank=True, default=list)),
                    ('forward_result', models.JSONField(blank=True, null=True)),
                    ('rollback_result', models.JSONField(blank=True, null=True)),
                    ('reapply_result', models.JSONField(blank=True, null=True)),
                    ('baselines_before', models.JSONField(blank=True, null=True)),
                    ('baselines_after', models.JSONField(blank=True, null=True)),
                    ('validation', models.JSONField(blank=True, null=True)),
                    ('validation_status', models.CharField(blank=True, max_length=24)),
                    ('baseline_error', models.TextField(blank=True)),
                    ('digest_before', models.CharField(blank=True, max_length=64)),
                    ('digest_after_forward', models.CharField(blank=True, max_length=64)),
                    ('digest_after_rollback', models.CharField(blank=True, max_length=64)),
                    ('digest_after_reapply', models.CharField(blank=True, max_length=64)),
                    ('rollback_verified', models.BooleanField(default=False)),
                    ('rollback_schema_verified', models.BooleanField(default=False)),
                    ('rollback_data_status', models.CharField(blank=True, max_length=20)),
                    ('rollback_data_summary', models.TextField(blank=True)),
                    ('digest_differences', models.JSONField(blank=True, default=dict)),
                    ('projection', models.JSONField(blank=True, null=True)),
                    ('projected_lock_ms', models.FloatField(blank=True, null=True)),
                    ('warnings', models.JSONField(blank=True, default=list)),
                    ('error', models.TextField(blank=True)),
                    ('progress', models.JSONField(blank=True, default=dict)),
                    ('queued_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('started_at', models.DateTimeField(blank=True, null=True)),
                    ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ('environment', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rehearsals', to='staging_app.stagingenvironment')),
                    ('plan', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rehearsals', to='migrations_app.migrationplan')),
                    ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'staging_app_rehearsal',
                    'ordering': ['-queued_at', '-id'],
                },
            ),
            migrations.DeleteModel(
                name='AuditEvent',
            ),
            migrations.DeleteModel(
                name='TargetDatabase',
            ),
        ]),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
