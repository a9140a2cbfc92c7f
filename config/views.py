"""Views of the platform itself, not of a domain app: logins and their lockout."""

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.views import defaults
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings


class TokenView(ObtainAuthToken):
    """DRF's token login, reading bodies with the API's own parsers: DRF's view names
    its parsers itself, and its JSON parser recurses into a deep body until it fails."""

    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            # django-axes marks the request it was given, which here is DRF's wrapper, so
            # its middleware (which sees Django's request) would answer a plain 400.
            if getattr(request, "axes_locked_out", False):
                return login_locked_out(request._request)
            raise


obtain_auth_token = TokenView.as_view()


def login_locked_out(request, response=None, credentials=None, *args, **kwargs):
    """What a login gets while its account or address is locked out (django-axes calls this
    as AXES_LOCKOUT_CALLABLE): 429 with a message that says why, for how long, and how an
    admin lifts it; JSON on the API."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    limit = settings.AXES_FAILURE_LIMIT
    if request.path.startswith("/api/"):
        detail = (
            f"Too many failed logins ({limit} in a row) for this account or address: try "
            f"again in {minutes} minutes, or ask an admin to unlock it."
        )
        return JsonResponse({"detail": detail}, status=429)
    context = {"failure_limit": limit, "cooloff_minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)


def login_username(request, credentials=None) -> str | None:
    """The username a login attempt names, as django-axes records it (AXES_USERNAME_CALLABLE):
    cut to the longest a username can be, since its attempt log holds 255 characters and a
    20,000-character one made the failed login itself fail with a 500."""
    if credentials:
        name = credentials.get("username")
    else:
        name = getattr(request, "data", request.POST).get("username")
    return name[:150] if isinstance(name, str) else None


def bad_request(request, exception=None):
    """Django's 400 page, with the reason when Vox raised it (a BadRequest names the field,
    e.g. config.converters.posted_id). Plain text, so nothing in it is ever markup; other
    exceptions (a disallowed host, say) keep Django's reason-less page."""
    if type(exception) is BadRequest and str(exception):
        return HttpResponseBadRequest(
            f"Bad request: {exception}", content_type="text/plain; charset=utf-8"
        )
    return defaults.bad_request(request, exception)
