"""Tasks: a queued measurement stores its baselines; replay + compare records a validation;
monitoring re-measures production reads and records a WARNING alert when a query regressed."""

from __future__ import annotations

from baselines_app.models import BaselineRun, PerformanceValidation
from baselines_app.tasks import ensure_monitor_schedule, monitor_performance, queue_baseline_run, run_baseline_measurement
from migrations_app.execution_models import Alert


def _measure(target, dba, **fields):
    fields.setdefault("query_types", ["SELECT"])
    return queue_baseline_run(target, user=dba, label=fields.pop("label", "production"), **fields)


def test_a_queued_production_run_stores_read_only_baselines(production_target, dba, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = _measure(production_target, dba, tables_filter=["orders"])
    run.refresh_from_db()
    assert run.status == BaselineRun.Status.DONE, run.error
    assert run.production
    assert run.progress["step"] == "done"
    stored = {b.query_id: b for b in run.baselines.all()}
    assert stored["SELECT:public.orders:pk"].median_ms > 0
    assert stored["SELECT:public.orders:pk"].data["production"] is True


def test_a_second_delivery_of_the_same_run_does_nothing(production_target, dba, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = _measure(production_target, dba, tables_filter=["customers"])
    count = run.baselines.count()
    assert run_baseline_measurement(run.pk) == "already taken"
    assert run.baselines.count() == count


def test_a_run_asking_for_writes_on_production_fails_with_the_reason(production_target, dba, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = _measure(production_target, dba, query_types=["SELECT", "UPDATE"])
    run.refresh_from_db()
    assert run.status == BaselineRun.Status.FAILED
    assert "ProductionWriteRefused" in run.error


def test_a_replay_compared_with_its_source_records_a_validation(production_target, dba, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = _measure(production_target, dba, tables_filter=["orders"])
    with django_capture_on_commit_callbacks(execute=True):
        second = _measure(production_target, dba, label="production again", kind=BaselineRun.Kind.REPLAY,
                          replay_of=first, compare_with=first)
    validation = PerformanceValidation.objects.get(after_run=second)
    assert validation.before_run == first
    assert validation.validation_status == "PASS", validation.report["comparisons"]
    assert validation.engine_validation().before_label == "production"


def test_monitoring_after_an_index_is_dropped_records_a_warning_alert(production_target, shop, dba,
                                                                     django_capture_on_commit_callbacks):
    assert monitor_performance(production_target.pk)["skipped"] == "no production baseline to monitor against"
    with django_capture_on_commit_callbacks(execute=True):
        _measure(production_target, dba, tables_filter=["orders"])
    with shop.connect(autocommit=True) as conn:
        conn.execute("DROP INDEX orders_customer_idx")
    with django_capture_on_commit_callbacks(execute=False):
        result = monitor_performance(production_target.pk, ["orders"])
    validation = PerformanceValidation.objects.get(pk=result["validation"])
    assert validation.validation_status == "DEGRADATION_DETECTED"
    assert validation.alert_severity == "warning"
    assert "SELECT orders by customer_id" in validation.alert_message
    assert "became Seq Scan on orders" in validation.alert_message
    assert validation.after_run.kind == BaselineRun.Kind.MONITOR
    alert = Alert.objects.get()
    assert alert.severity == "warning"
    assert alert.subject == f"Performance degradation on {production_target.name}"
    assert "SELECT orders by customer_id" in alert.message


def test_the_monitor_schedule_is_created_once_per_target(production_target):
    first = ensure_monitor_schedule(production_target.pk, ["orders"], minutes=30)
    again = ensure_monitor_schedule(production_target.pk, ["orders", "customers"], minutes=15)
    assert first.pk == again.pk
    assert again.func == "baselines_app.tasks.monitor_performance"
    assert again.minutes == 15
