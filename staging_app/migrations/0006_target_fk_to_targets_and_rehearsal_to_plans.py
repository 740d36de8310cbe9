import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('staging_app', '0005_rehearsal_schema_and_data_verification'),
        ('targets', '0001_targets_and_audit_take_over_their_tables'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='stagingenvironment',
                name='target',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='staging_environments', to='targets.targetdatabase'),
            ),
            migrations.AlterField(
                model_name='targetmaskingrules',
                name='target',
                field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='masking', to='targets.targetdatabase'),
            ),
            migrations.DeleteModel(
                name='Rehearsal',
            ),
        ]),
    ]
