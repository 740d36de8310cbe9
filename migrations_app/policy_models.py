"""The review policy as DBAs edit it: every save is a new version (history kept, never edited)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReviewPolicyVersion(models.Model):
    """One saved policy document (TOML or JSON as written, and parsed); the newest is in force."""

    text = models.TextField()
    document = models.JSONField()
    comment = models.CharField(max_length=500, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "migrations_app"
        ordering = ["-id"]

    def __str__(self):
        return f"review policy v{self.pk}"

    @property
    def label(self) -> str:
        return f"review policy v{self.pk} by {self.author.username}"
