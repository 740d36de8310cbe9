from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dataflow_site import profile
from integrations.api import api

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", profile.profile, name="profile"),
    path("profile/authenticator/start/", profile.authenticator_start, name="authenticator_start"),
    path("profile/authenticator/confirm/", profile.authenticator_confirm, name="authenticator_confirm"),
    path("profile/authenticator/remove/", profile.authenticator_remove, name="authenticator_remove"),
    path("admin/", admin.site.urls),
    path("targets/", include("targets.urls")),
    path("staging/", include("staging_app.urls")),
    path("baselines/", include("baselines_app.urls")),
    path("api/v1/", api.urls),
    path("", include("integrations.urls")),
    path("", include("migrations_app.urls")),
]

handler400 = "dataflow_site.errors.bad_request"
