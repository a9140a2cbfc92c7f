"""The queue's fast lane: next and submit for API clients, without Django's request cycle.

Annotators' clients call next and submit twice per label. On a small machine, Django's
handler, its middleware and DRF's view machinery cost as much CPU as the queue work itself
(docs/workbench.md has the figures), so this WSGI wrapper answers exactly those two
requests itself when they carry an API token and no cookie, and passes everything else to
Django untouched. The work is the same: `annotation.api.queue_next` and `queue_submit`,
which the DRF views call too, with the same token check, status codes, bodies and error
shapes, and the security headers Django's middleware would add.

It never sees a browser session: a request with a Cookie header goes to Django, where
session authentication and CSRF apply. With HTTPS required, plain-HTTP requests go to
Django too, which redirects them.
"""

from __future__ import annotations

import json
import logging
import re

from csp.utils import build_policy
from django.conf import settings
from django.core import signals
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.http.request import split_domain_port, validate_host
from rest_framework.exceptions import APIException, ParseError
from rest_framework.utils.encoders import JSONEncoder

from config import jsonbody
from config.parsers import parse_error

logger = logging.getLogger("django.request")

ROUTE = re.compile(r"^/api/projects/(\d+)/(next|annotations)/$")


def is_next(environ) -> bool:
    """Whether a request is a queue "next": the gate (config/gate.py) lets those go first."""
    route = ROUTE.match(environ.get("PATH_INFO", ""))
    return environ.get("REQUEST_METHOD") == "POST" and bool(route) and route[2] == "next"


# Larger bodies go through Django, which enforces DATA_UPLOAD_MAX_MEMORY_SIZE.
MAX_BODY = 64 * 1024


class QueueFastLane:
    def __init__(self, app):
        self.app = app
        from annotation import api
        from annotation.queue import seat_read

        self._next = api.queue_next
        self._submit = api.queue_submit
        self._seat = seat_read
        self._headers = [
            ("Content-Type", "application/json"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", settings.X_FRAME_OPTIONS),
            ("Referrer-Policy", settings.SECURE_REFERRER_POLICY),
            ("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY),
            # What csp.middleware.CSPMiddleware adds to Django's replies.
            ("Content-Security-Policy", build_policy()),
        ]
        if settings.SECURE_HSTS_SECONDS:
            hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                hsts += "; includeSubDomains"
            if settings.SECURE_HSTS_PRELOAD:
                hsts += "; preload"
            self._headers.append(("Strict-Transport-Security", hsts))

    def __call__(self, environ, start_response):
        route = self._route(environ)
        if route is None:
            return self.app(environ, start_response)
        # Django's handler sends these too: their receivers retire old or broken
        # database connections.
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            code, body = self._answer(environ, *route)
        finally:
            signals.request_finished.send(sender=self.__class__)
        payload = json.dumps(
            body, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":")
        ).encode()
        headers = [*self._headers, ("Content-Length", str(len(payload)))]
        start_response(f"{code} {_REASONS.get(code, 'Unknown')}", headers)
        return [payload]

    def _route(self, environ) -> tuple[str, str, str] | None:
        """(project id, endpoint, token) when the fast lane answers this request."""
        if environ.get("REQUEST_METHOD") != "POST" or "HTTP_COOKIE" in environ:
            return None
        match = ROUTE.match(environ.get("PATH_INFO", ""))
        if match is None:
            return None
        auth = environ.get("HTTP_AUTHORIZATION", "").split()
        if len(auth) != 2 or auth[0].lower() != "token":
            return None
        if settings.SECURE_SSL_REDIRECT and not _is_secure(environ):
            return None
        domain, _port = split_domain_port(environ.get("HTTP_HOST", ""))
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return None  # Django answers 400 for a host it does not serve
        try:
            if int(environ.get("CONTENT_LENGTH") or 0) > MAX_BODY:
                return None
        except ValueError:
            return None
        return match.group(1), match.group(2), auth[1]

    def _answer(self, environ, project_id: str, endpoint: str, token: str) -> tuple[int, dict]:
        try:
            # The token is checked in the seat's statement (annotation.queue.seat_read).
            if endpoint == "next":
                return self._next(project_id, token=token)
            try:
                body = _json_body(environ)
            except ParseError:
                self._seat(project_id, token=token)  # 403 or 404 before 400, as in DRF
                raise
            return self._submit(project_id, body, token=token)
        except Http404:
            return 404, {"detail": "Not found."}
        except PermissionDenied:
            return 403, {"detail": "You do not have permission to perform this action."}
        except APIException as exc:
            # DRF answers 403, not 401, for a bad token here: its first authenticator is
            # the session's, which sends no WWW-Authenticate challenge.
            code = 403 if exc.status_code == 401 else exc.status_code
            detail = exc.detail if isinstance(exc.detail, (list, dict)) else {"detail": exc.detail}
            return code, detail
        except Exception:
            logger.exception("Internal Server Error: %s", environ.get("PATH_INFO"))
            return 500, {"detail": "A server error occurred."}


def _json_body(environ):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    if not raw:
        return {}
    try:
        return jsonbody.loads(raw)
    except jsonbody.BadJson as exc:
        raise parse_error(exc) from None


def _is_secure(environ) -> bool:
    if settings.SECURE_PROXY_SSL_HEADER:
        header, value = settings.SECURE_PROXY_SSL_HEADER
        if header in environ:
            return environ[header].split(",")[0].strip() == value
    return environ.get("wsgi.url_scheme") == "https"


_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
}
