"""Choosing production tables to monitor, and the monitor's alert when a query regresses."""

from django.urls import reverse
from django_q.models import Schedule

from baselines_app.models import BaselineRun, PerformanceValidation
from baselines_app.tasks import MONITOR_SCHEDULE_PREFIX, monitor_performance


def test_only_dbas_schedule_monitoring(production_target, client_for, manager, engineer, outsider):
    url = reverse("baseline_monitor")
    for user in (manager, engineer, outsider):
        assert client_for(user).post(url, {"target": production_target.pk, "minutes": 30}).status_code == 403
    assert client_for(None).post(url).status_code == 302
    assert not Schedule.objects.filter(name__startswith=MONITOR_SCHEDULE_PREFIX).exists()


def test_monitoring_needs_a_production_baseline_first(production_target, client_for, dba):
    response = client_for(dba).post(reverse("baseline_monitor"), {"target": production_target.pk, "minutes": 30},
                                    follow=True)
    assert "Measure a production baseline" in response.content.decode()
    assert not Schedule.objects.filter(name__startswith=MONITOR_SCHEDULE_PREFIX).exists()


def test_dba_schedules_monitoring_and_a_dropped_index_raises_a_warning(production_target, shop, client_for, dba,
                                                                       django_capture_on_commit_callbacks):
    client = client_for(dba)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("baseline_measure"), {"target": production_target.pk, "label": "production",
                                                  "schema": "public", "tables": "orders", "query_types": ["SELECT"]})
    assert BaselineRun.objects.get().status == BaselineRun.Status.DONE
    response = client.post(reverse("baseline_monitor"), {"target": production_target.pk, "tables": "orders",
                                                         "minutes": 15})
    assert response.status_code == 302
    schedule = Schedule.objects.get(name=f"{MONITOR_SCHEDULE_PREFIX}{production_target.pk}")
    assert (schedule.func, schedule.minutes) == ("baselines_app.tasks.monitor_performance", 15)
    assert "orders" in client.get(reverse("baseline_list")).content.decode()

    with shop.connect(autocommit=True) as conn:
        conn.execute("DROP INDEX orders_customer_idx")
    result = monitor_performance(production_target.pk, ["orders"])
    validation = PerformanceValidation.objects.get(pk=result["validation"])
    assert validation.validation_status == "DEGRADATION_DETECTED"
    assert validation.alert_severity == "warning" and "slower" in validation.alert_message

    client.post(reverse("baseline_monitor_stop", args=[production_target.pk]))
    assert not Schedule.objects.filter(name__startswith=MONITOR_SCHEDULE_PREFIX).exists()
