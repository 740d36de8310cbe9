from django.urls import path

from targets import views

urlpatterns = [
    path("", views.target_list, name="target_list"),
    path("add/", views.target_add, name="target_add"),
    path("test-connection/", views.target_test_connection, name="target_test_connection"),
    path("<int:pk>/edit/", views.target_edit, name="target_edit"),
    path("<int:pk>/delete/", views.target_delete, name="target_delete"),
    path("<int:pk>/test-connection/", views.target_test_connection, name="target_test_connection_existing"),
    path("<int:pk>/health/", views.target_health, name="target_health"),
    path("<int:pk>/health/refresh/", views.target_refresh_health, name="target_refresh_health"),
    path("<int:pk>/health/row/", views.target_health_row, name="target_health_row"),
]
