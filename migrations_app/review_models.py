"""What reviewers keep beside a plan: every version of its operations (append-only) and its
comment thread with the users each comment mentions."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AppendOnly(models.Model):
    """Rows are written once: an update or a delete through the ORM raises (history is evidence)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{type(self).__name__} rows are append-only")


class PlanVersion(AppendOnly):
    """The plan's operations as they were after one change: ``operations`` is the ordered list of
    {position, type, sql, rollback_sql}; ``verb`` is the audit verb of the change that made it."""

    plan = models.ForeignKey("migrations_app.MigrationPlan", on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    sql_hash = models.CharField(max_length=64)
    operations = models.JSONField(default=list)
    verb = models.CharField(max_length=64)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "migrations_app"
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="planversion_one_number_per_plan")]

    def __str__(self):
        return f"v{self.number} of plan {self.plan_id}"

    @property
    def forward_sql(self) -> str:
        return "".join(f"{op['sql'].rstrip().rstrip(';')};\n" for op in self.operations)

    @property
    def rollback_sql(self) -> str:
        # the executor undoes in reverse order; the text shows it in that order too
        return "".join(f"{op['rollback_sql'].rstrip().rstrip(';')};\n"
                       for op in reversed(self.operations) if op.get("rollback_sql", "").strip())


class PlanComment(AppendOnly):
    plan = models.ForeignKey("migrations_app.MigrationPlan", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="plan_mentions")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        app_label = "migrations_app"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"comment {self.pk} on plan {self.plan_id}"
