"""The URL map. It names each app's URL module by its dotted path and imports none of
them: config/ is the platform under the apps, and only wsgi.py reaches into one."""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

# Registers <id:...>, which every app's URLs use, before include() imports them.
from config import converters  # noqa: F401
from config.views import obtain_auth_token

handler400 = "config.views.bad_request"

api = [
    path("", include("tasks.api_urls")),
    path("", include("annotation.api_urls")),
    path("", include("aggregation.api_urls")),
    path("", include("quality.api_urls")),
    path("token/", obtain_auth_token, name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="api:schema"), name="docs"),
]

urlpatterns = [
    path("", include("tasks.site_urls")),
    path("healthz", lambda request: HttpResponse("ok", content_type="text/plain"), name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include((api, "api"))),
    path("", include("tasks.urls")),
    path("", include("annotation.urls")),
    path("", include("raters.urls")),
    path("", include("quality.urls")),
    path("", include("quality.dashboard_urls")),
    path("", include("modelruns.urls")),
]
