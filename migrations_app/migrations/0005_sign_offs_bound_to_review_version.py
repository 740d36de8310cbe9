"""A sign-off binds what the signer saw: review version, target identity, analysis. An analysis
records the target identity it was made against.

Existing sign-offs and analyses are left unbound on purpose: nobody can say now which database
they were made against, so they stop counting (fail closed) and the plans are analysed and signed
again."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("migrations_app", "0004_executions_incidents_alerts"),
    ]

    operations = [
        migrations.AddField(
            model_name="analysisrun",
            name="target_identity",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="signoff",
            name="review_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="signoff",
            name="target_identity",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="signoff",
            name="analysis",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="migrations_app.analysisrun"),
        ),
    ]
