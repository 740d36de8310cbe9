from django.urls import path

from staging_app import views

urlpatterns = [
    path("", views.staging_list, name="staging_list"),
    path("new/", views.staging_create, name="staging_create"),
    path("masking/<int:target_id>/", views.masking_rules, name="staging_masking"),
    path("<str:staging_id>/", views.staging_detail, name="staging_detail"),
    path("<str:staging_id>/progress/", views.staging_progress, name="staging_progress"),
    path("<str:staging_id>/cleanup/", views.staging_cleanup, name="staging_cleanup"),
]
