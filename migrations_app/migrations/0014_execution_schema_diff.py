from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('migrations_app', '0013_review_policy_versions'),
    ]

    operations = [
        migrations.AddField(
            model_name='execution',
            name='schema_diff',
            field=models.JSONField(blank=True, null=True),
        ),
    ]
