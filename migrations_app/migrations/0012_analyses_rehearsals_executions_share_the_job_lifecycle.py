"""Analyses, rehearsals and executions take the shared job lifecycle (targets.jobs.Job): status
columns as wide as every job's, values unchanged. A rehearsal links the baseline runs it measured."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('baselines_app', '0003_baseline_runs_share_the_job_lifecycle'),
        ('migrations_app', '0011_targets_audit_and_rehearsals_move_in_state_only'),
    ]

    operations = [
        migrations.AddField(
            model_name='rehearsal',
            name='baseline_run_after',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='rehearsals_after', to='baselines_app.baselinerun'),
        ),
        migrations.AddField(
            model_name='rehearsal',
            name='baseline_run_before',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='rehearsals_before', to='baselines_app.baselinerun'),
        ),
        migrations.AlterField(
            model_name='analysisrun',
            name='status',
            field=models.CharField(choices=[('QUEUED', 'Queued'), ('RUNNING', 'Running'), ('SUCCEEDED', 'Succeeded'), ('FAILED', 'Failed'), ('STALE', 'Stale (the SQL changed while it ran)')], db_index=True, default='QUEUED', max_length=20),
        ),
        migrations.AlterField(
            model_name='rehearsal',
            name='status',
            field=models.CharField(choices=[('QUEUED', 'Queued'), ('RUNNING', 'Running'), ('PASSED', 'Passed'), ('FAILED', 'Failed')], db_index=True, default='QUEUED', max_length=20),
        ),
    ]
