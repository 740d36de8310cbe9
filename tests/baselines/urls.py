"""The project's URLs plus the baselines pages, for these tests until the root URLconf includes them."""

from django.urls import include, path

from dataflow_site.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("baselines/", include("baselines_app.urls")), *project_urlpatterns]
