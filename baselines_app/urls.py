from django.urls import path

from baselines_app import views

urlpatterns = [
    path("", views.baseline_list, name="baseline_list"),
    path("measure/", views.baseline_measure, name="baseline_measure"),
    path("monitoring/", views.monitor_schedule, name="baseline_monitor"),
    path("monitoring/<int:target_id>/stop/", views.monitor_stop, name="baseline_monitor_stop"),
    path("runs/<int:run_id>/", views.baseline_run, name="baseline_run"),
    path("runs/<int:run_id>/progress/", views.baseline_run_progress, name="baseline_run_progress"),
    path("validations/<int:validation_id>/", views.validation_detail, name="baseline_validation"),
    path("history/<int:target_id>/<str:table>/", views.table_history, name="baseline_history"),
]
