"""The site's URLs plus the staging pages at staging/ (as the lead mounts them)."""

from django.urls import include, path

from dataflow_site.urls import urlpatterns as site_urlpatterns

urlpatterns = [*site_urlpatterns, path("staging/", include("staging_app.urls"))]
