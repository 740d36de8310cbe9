"""Baseline runs take the shared job lifecycle (targets.jobs.Job): the status column is as wide as
every job's; no value changes meaning. A run can be measured in a rehearsal."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('baselines_app', '0002_target_fk_to_targets'),
    ]

    operations = [
        migrations.AlterField(
            model_name='baselinerun',
            name='kind',
            field=models.CharField(choices=[('measure', 'Measurement'), ('replay', 'Replay of an earlier run'), ('monitor', 'Production monitoring'), ('rehearsal', 'Measured in a rehearsal')], default='measure', max_length=16),
        ),
        migrations.AlterField(
            model_name='baselinerun',
            name='status',
            field=models.CharField(choices=[('QUEUED', 'Queued'), ('RUNNING', 'Running'), ('DONE', 'Done'), ('FAILED', 'Failed')], db_index=True, default='QUEUED', max_length=20),
        ),
    ]
