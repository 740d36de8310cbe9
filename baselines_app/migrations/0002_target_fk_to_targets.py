import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('baselines_app', '0001_initial'),
        ('targets', '0001_targets_and_audit_take_over_their_tables'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='baselinerun',
                name='target',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='baseline_runs', to='targets.targetdatabase'),
            ),
        ]),
    ]
