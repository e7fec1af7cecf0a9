"""GeoReport v2 under ``/open311/v2/``: every resource as ``.json`` or ``.xml``."""

from django.urls import re_path

from . import views

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(rf"^discovery{FMT}", views.discovery, name="open311-discovery"),
    re_path(rf"^services{FMT}", views.services, name="open311-services"),
    re_path(rf"^services/(?P<code>[^/]+?){FMT}", views.service_definition, name="open311-service"),
    re_path(rf"^requests{FMT}", views.service_requests, name="open311-requests"),
    re_path(rf"^requests/(?P<code>[^/]+?){FMT}", views.service_request, name="open311-request"),
    re_path(rf"^tokens/(?P<token>[^/]+?){FMT}", views.token, name="open311-token"),
    re_path(r"^.*?(?:\.(?P<fmt>json|xml))?$", views.not_found),
]
