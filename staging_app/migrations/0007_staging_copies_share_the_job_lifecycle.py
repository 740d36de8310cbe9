"""Staging copies take the shared job lifecycle (targets.jobs.Job): the status column is as wide as
every job's (values unchanged) and a copy records when replication started and finished."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('staging_app', '0006_target_fk_to_targets_and_rehearsal_to_plans'),
    ]

    operations = [
        migrations.AddField(
            model_name='stagingenvironment',
            name='finished_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='stagingenvironment',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='stagingenvironment',
            name='status',
            field=models.CharField(choices=[('CREATING', 'Creating'), ('REPLICATING', 'Replicating'), ('READY', 'Ready'), ('ERROR', 'Error'), ('CLEANING', 'Cleaning up'), ('CLEANED', 'Cleaned up')], db_index=True, default='CREATING', max_length=20),
        ),
    ]
