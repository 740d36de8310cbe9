"""One job lifecycle for every background run: analyses, rehearsals, executions, staging copies
and baseline runs.

A job row is created QUEUED (its own first status), claimed by the worker with a compare-and-set
to its running status (so a second delivery of the task does nothing), and finished once with a
compare-and-set from running to one of its end statuses. Each concrete job keeps its own status
values (existing rows and pages use them) and names which of them mean queued, running and
finished. Tasks take ids only and are queued after the transaction that created the row commits.

The live-panel side: a job's status fragment polls while the job is active; the response that
first sees it finished carries ``HX-Trigger: job-finished`` so every panel that depends on the
job (``hx-trigger="job-finished from:body"``) refreshes itself instead of the page reloading.
"""

from __future__ import annotations

import json
from typing import ClassVar

from django.db import models, transaction
from django.utils import timezone

JOB_FINISHED_EVENT = "job-finished"


def job_status(choices: type[models.TextChoices], default: str) -> models.CharField:
    """The status column of a concrete job: one width for all, its own values."""
    return models.CharField(max_length=20, choices=choices.choices, default=default, db_index=True)


class Job(models.Model):
    queued_status: ClassVar[str] = "QUEUED"
    running_status: ClassVar[str] = "RUNNING"
    finished_statuses: ClassVar[tuple[str, ...]] = ()
    # names the job in the job-finished event ("analysis", "rehearsal", ...)
    job_kind: ClassVar[str] = ""

    status = models.CharField(max_length=20, default="QUEUED", db_index=True)
    progress = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.status in (self.queued_status, self.running_status)

    @property
    def is_finished(self) -> bool:
        return self.status in self.finished_statuses

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None

    @classmethod
    def stamps_for(cls, status: str) -> dict:
        """The timestamp a move to ``status`` sets (for code that moves the status itself)."""
        if status == cls.running_status:
            return {"started_at": timezone.now()}
        if status in cls.finished_statuses:
            return {"finished_at": timezone.now()}
        return {}

    def claim(self, **fields) -> bool:
        """QUEUED -> RUNNING by compare-and-set; True for the one caller that moved it."""
        fields = {"status": self.running_status, "started_at": timezone.now(), **fields}
        if not type(self)._default_manager.filter(pk=self.pk, status=self.queued_status).update(**fields):
            return False
        for name, value in fields.items():
            setattr(self, name, value)
        return True

    def finish(self, status: str, *, error: str | None = None, from_statuses=None, **fields) -> bool:
        """RUNNING (or ``from_statuses``) -> an end status by compare-and-set, stamping
        ``finished_at``; False when another writer finished or moved the job first."""
        if status not in self.finished_statuses:
            raise ValueError(f"{status} is not an end status of {type(self).__name__}")
        fields = {"status": status, "finished_at": timezone.now(), **fields}
        if error is not None:
            fields["error"] = error
        allowed = list(from_statuses) if from_statuses is not None else [self.running_status]
        if not type(self)._default_manager.filter(pk=self.pk, status__in=allowed).update(**fields):
            return False
        for name, value in fields.items():
            setattr(self, name, value)
        return True

    def set_progress(self, progress: dict) -> None:
        type(self)._default_manager.filter(pk=self.pk).update(progress=progress)
        self.progress = progress

    def finished_event(self) -> dict:
        return {JOB_FINISHED_EVENT: {"kind": self.job_kind, "id": self.pk, "status": self.status}}


def enqueue_on_commit(task_path: str, job_id, *args, group: str, name: str) -> None:
    """Queue ``task_path(job_id, *args)`` on django-q2 once the current transaction commits (at
    once outside one), so the worker never looks for a row that is not there yet. Arguments are
    ids and flags only: never an object or a secret."""
    from django_q.tasks import async_task  # django-q2 reads settings when imported

    transaction.on_commit(lambda: async_task(task_path, job_id, *args, task_name=f"{name}:{job_id}", group=group))


def announce_if_finished(response, job: Job, was_active: bool):
    """Mark the fragment response that first sees ``job`` finished with the job-finished event."""
    if was_active and not job.is_active:
        existing = response.get("HX-Trigger")
        events = json.loads(existing) if existing and existing.startswith("{") else (
            {existing: None} if existing else {})
        events.update(job.finished_event())
        response["HX-Trigger"] = json.dumps(events)
    return response
