from django.urls import path

from staging_app import views

urlpatterns = [
    path("", views.staging_list, name="staging_list"),
    path("new/", views.staging_create, name="staging_create"),
    path("masking/<int:target_id>/", views.masking_rules, name="staging_masking"),
    path("plans/<int:plan_id>/rehearse/", views.rehearse, name="rehearse"),
    path("plans/<int:plan_id>/rehearsals/", views.plan_rehearsals, name="plan_rehearsals"),
    path("rehearsals/<int:rehearsal_id>/", views.rehearsal_detail, name="rehearsal_detail"),
    path("rehearsals/<int:rehearsal_id>/progress/", views.rehearsal_progress, name="rehearsal_progress"),
    path("<str:staging_id>/", views.staging_detail, name="staging_detail"),
    path("<str:staging_id>/progress/", views.staging_progress, name="staging_progress"),
    path("<str:staging_id>/cleanup/", views.staging_cleanup, name="staging_cleanup"),
]
