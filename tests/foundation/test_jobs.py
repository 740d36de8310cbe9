"""The one job lifecycle: claim by compare-and-set, finish once, timestamps, queued after commit."""

from __future__ import annotations

import pytest

from baselines_app.models import BaselineRun
from migrations_app.models import AnalysisRun
from tests.factories import AnalysisRunFactory, MigrationPlanFactory, TargetDatabaseFactory

pytestmark = pytest.mark.django_db


def test_only_the_first_claim_of_a_queued_job_wins_and_stamps_its_start(dba):
    run = AnalysisRunFactory(plan=MigrationPlanFactory(author=dba), queued=True)
    second = AnalysisRun.objects.get(pk=run.pk)

    assert run.claim(progress={"step": "starting"}) is True
    assert second.claim() is False
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.RUNNING and run.started_at is not None and run.progress == {"step": "starting"}


def test_a_job_finishes_once_from_running_and_never_to_a_status_that_is_not_an_end(dba):
    run = AnalysisRunFactory(plan=MigrationPlanFactory(author=dba), queued=True)
    assert run.finish(AnalysisRun.Status.FAILED, error="x") is False  # still queued: nobody claimed it
    run.claim()
    with pytest.raises(ValueError):
        run.finish(AnalysisRun.Status.RUNNING)
    assert run.finish(AnalysisRun.Status.FAILED, error="catalog error") is True
    assert AnalysisRun.objects.get(pk=run.pk).finish(AnalysisRun.Status.SUCCEEDED) is False
    run.refresh_from_db()
    assert (run.status, run.error, run.is_active, run.is_finished) == ("FAILED", "catalog error", False, True)
    assert run.finished_at >= run.started_at


def test_a_baseline_run_is_queued_after_its_transaction_commits(dba, django_capture_on_commit_callbacks, monkeypatch):
    from django_q.conf import Conf
    from django_q.models import OrmQ

    from baselines_app.tasks import queue_baseline_run

    monkeypatch.setattr(Conf, "SYNC", False)  # to the broker, where a worker would take it
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = queue_baseline_run(TargetDatabaseFactory(), user=dba, label="later")
        assert OrmQ.objects.count() == 0
    assert len(callbacks) == 1 and run.queued_at == run.created_at and run.status == BaselineRun.Status.QUEUED
    callbacks[0]()
    assert OrmQ.objects.count() == 1
