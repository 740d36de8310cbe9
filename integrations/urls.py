from django.urls import path

from integrations import views

urlpatterns = [
    path("profile/tokens/", views.token_list, name="api_tokens"),
    path("profile/tokens/<int:pk>/revoke/", views.token_revoke, name="api_token_revoke"),
    path("targets/<int:pk>/ledger/", views.target_ledger, name="target_ledger"),
    path("targets/<int:pk>/drift/<int:finding_id>/accept/", views.drift_accept, name="drift_accept"),
    path("webhooks/", views.webhook_list, name="webhook_list"),
]
