from django.urls import path

from migrations_app.views import dashboard, targets

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("audit/", dashboard.audit_list, name="audit_list"),
    path("targets/", targets.target_list, name="target_list"),
    path("targets/add/", targets.target_add, name="target_add"),
    path("targets/test-connection/", targets.target_test_connection, name="target_test_connection"),
    path("targets/<int:pk>/edit/", targets.target_edit, name="target_edit"),
    path("targets/<int:pk>/delete/", targets.target_delete, name="target_delete"),
    path("targets/<int:pk>/test-connection/", targets.target_test_connection, name="target_test_connection_existing"),
    path("targets/<int:pk>/health/", targets.target_health, name="target_health"),
    path("targets/<int:pk>/health/refresh/", targets.target_refresh_health, name="target_refresh_health"),
    path("targets/<int:pk>/health/row/", targets.target_health_row, name="target_health_row"),
]
