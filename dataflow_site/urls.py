from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from integrations.api import api

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("targets/", include("targets.urls")),
    path("staging/", include("staging_app.urls")),
    path("baselines/", include("baselines_app.urls")),
    path("api/v1/", api.urls),
    path("", include("integrations.urls")),
    path("", include("migrations_app.urls")),
]

handler400 = "dataflow_site.errors.bad_request"
