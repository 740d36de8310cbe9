import uuid

import django.db.models.deletion
from django.db import migrations, models

import migrations_app.execution_models


def give_each_execution_a_journal_key(apps, schema_editor):
    Execution = apps.get_model("migrations_app", "Execution")
    for execution in Execution.objects.filter(journal_key__isnull=True).only("pk"):
        Execution.objects.filter(pk=execution.pk).update(journal_key=uuid.uuid4().hex)


class Migration(migrations.Migration):

    dependencies = [
        ('migrations_app', '0004_executions_incidents_alerts'),
    ]

    operations = [
        migrations.AlterField(
            model_name='execution',
            name='status',
            field=models.CharField(choices=[('QUEUED', 'Queued'), ('RUNNING', 'Running'), ('SUCCEEDED', 'Succeeded'), ('FAILED', 'Failed'), ('ROLLED_BACK', 'Rolled back'), ('ROLLBACK_FAILED', 'Rollback failed'), ('REFUSED', 'Refused (gate re-check)'), ('PARTIALLY_APPLIED', 'Partially applied'), ('IN_DOUBT', 'Outcome in doubt')], db_index=True, default='QUEUED', max_length=20),
        ),
        migrations.AlterField(
            model_name='migrationplan',
            name='status',
            field=models.CharField(choices=[('DRAFT', 'Draft'), ('ANALYZING', 'Analysing'), ('IN_REVIEW', 'In review'), ('APPROVED', 'Approved'), ('REJECTED', 'Rejected'), ('EXECUTING', 'Executing'), ('SUCCEEDED', 'Succeeded'), ('FAILED', 'Failed'), ('ROLLED_BACK', 'Rolled back'), ('ROLLBACK_FAILED', 'Rollback failed'), ('PARTIALLY_APPLIED', 'Partially applied')], db_index=True, default='DRAFT', max_length=20),
        ),
        # nullable first: existing rows each get their own key before the column turns unique
        migrations.AddField(
            model_name='execution',
            name='journal_key',
            field=models.CharField(editable=False, max_length=32, null=True),
        ),
        migrations.RunPython(give_each_execution_a_journal_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='execution',
            name='journal_key',
            field=models.CharField(default=migrations_app.execution_models._journal_key, editable=False, max_length=32, unique=True),
        ),
        migrations.AddField(
            model_name='execution',
            name='resume_of',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='resumes', to='migrations_app.execution'),
        ),
        migrations.AddField(
            model_name='execution',
            name='start_operation',
            field=models.IntegerField(default=0, help_text='a resume starts at this operation index'),
        ),
        migrations.AddField(
            model_name='execution',
            name='committed_operations',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='execution',
            name='reconciliation',
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='execution',
            name='rollback_plan_to_run',
            field=models.JSONField(blank=True, null=True),
        ),
    ]
