# The analysis summary and digest pages read instead of the whole report (migrations_app/report_store.py).

from django.db import migrations, models


def backfill(apps, schema_editor):
    """Store the summary and digest of every finished analysis, made of its report as stored (the
    digest is the one the review page computed from it until now, so sign-offs keep counting)."""
    from migrations_app.report_store import summarise
    from migrations_app.review_version import compute_analysis_digest

    AnalysisRun = apps.get_model("migrations_app", "AnalysisRun")
    for run in AnalysisRun.objects.filter(report__isnull=False).iterator(chunk_size=50):
        AnalysisRun.objects.filter(pk=run.pk).update(summary=summarise(run.report),
                                                     digest=compute_analysis_digest(run, run.report))


class Migration(migrations.Migration):

    dependencies = [
        ('migrations_app', '0015_merge_execution_schema_diff_and_plan_versions'),
    ]

    operations = [
        migrations.AddField(
            model_name='analysisrun',
            name='digest',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='analysisrun',
            name='summary',
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
