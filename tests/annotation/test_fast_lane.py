"""The queue's fast lane answers token clients exactly as the DRF views do.

Each test sends the same request through the fast lane (the real WSGI application that
gunicorn or granian serves) and through Django's full request cycle, on a real database.
Transactional: the fast lane retires connections as Django's handler does, which would end
a test wrapped in one transaction.
"""

import io
import json
import uuid

import pytest
from django.core.wsgi import get_wsgi_application
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotation.fastlane import QueueFastLane
from annotation.models import Annotation

pytestmark = pytest.mark.django_db(transaction=True)


def wsgi_environ(path, method="POST", body=b"", **headers) -> dict:
    """The WSGI environ of one HTTP/1.1 request to testserver."""
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **{f"HTTP_{k.upper()}": v for k, v in headers.items()},
    }


class Wsgi:
    """A minimal HTTP/1.1 client for a WSGI application: status, headers and JSON body."""

    def __init__(self, app):
        self.app = app

    def post(self, path, body=b"", **headers):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        environ = wsgi_environ(path, "POST", body, **headers)
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            answer["status"] = int(status.split()[0])
            answer["headers"] = dict(response_headers)

        raw = b"".join(self.app(environ, start_response))
        content_type = answer["headers"].get("Content-Type", "")
        body = json.loads(raw) if raw and content_type.startswith("application/json") else raw
        return answer["status"], answer["headers"], body


@pytest.fixture
def django_app():
    return get_wsgi_application()


class Counting:
    """Django's application, counting the requests that reach it."""

    def __init__(self, app):
        self.app, self.calls = app, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


@pytest.fixture
def lane(django_app):
    return Wsgi(QueueFastLane(Counting(django_app)))


@pytest.fixture
def full(django_app):
    return Wsgi(django_app)


@pytest.fixture
def token(rater):
    return Token.objects.create(user=rater).key


def paths(project):
    return reverse("api:next-item", args=[project.pk]), reverse(
        "api:annotation-submit", args=[project.pk]
    )


def test_the_served_application_runs_the_fast_lane_by_default():
    from config.wsgi import application

    assert isinstance(application, QueueFastLane)


def test_next_and_submit_through_the_fast_lane_match_djangos_answers(
    lane, full, project, rater, items, token
):
    next_url, submit_url = paths(project)
    auth = {"authorization": f"Token {token}"}
    code, headers, fast = lane.post(next_url, **auth)
    assert code == 200 and fast["item"]["item_id"] in {i.public_id for i in items}
    # Reloading gives back the same lease, so Django must answer with the same body.
    assert full.post(next_url, **auth)[2] == fast

    submit = {"item_id": fast["item"]["item_id"], "value": "yes", "idempotency_key": "k1"}
    code, _, submitted = lane.post(submit_url, {**submit, "next": False}, **auth)
    assert code == 201 and set(submitted) == {"annotation"}
    # A replay returns the first result, through either route.
    assert full.post(submit_url, {**submit, "next": False}, **auth)[:3:2] == (201, submitted)
    assert Annotation.objects.filter(rater=rater).count() == 1

    # Submit-and-next (the default) brings the next item along.
    code, _, both = lane.post(next_url, **auth)
    item_id = both["item"]["item_id"]
    code, _, both = lane.post(submit_url, {"item_id": item_id, "value": "no"}, **auth)
    assert code == 201 and both["next"]["item_id"] not in (item_id, submit["item_id"])
    assert lane.app.app.calls == 0  # none of these reached Django


def test_the_fast_lane_sets_the_security_headers_of_django_middleware(
    lane, project, rater, items, token
):
    _, headers, _ = lane.post(paths(project)[0], authorization=f"Token {token}")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "case",
    ["bad token", "other project", "missing fields", "bad json", "never served", "labeled"],
)
def test_refusals_have_the_same_status_and_body_on_both_routes(
    case, lane, full, project, rater, outsider, items, token
):
    next_url, submit_url = paths(project)
    auth = {"authorization": f"Token {token}"}
    first = lane.post(next_url, **auth)[2]["item"]["item_id"]
    if case == "labeled":
        lane.post(submit_url, {"item_id": first, "value": "yes", "next": False}, **auth)
    request = {
        "bad token": (next_url, b"", {"authorization": "Token not-a-token"}),
        "other project": (
            reverse("api:next-item", args=[outsider.memberships.get().project_id]),
            b"",
            auth,
        ),
        "missing fields": (submit_url, {"active_ms": -1}, auth),
        "bad json": (submit_url, b"{not json", auth),
        "never served": (submit_url, {"item_id": items[-1].public_id, "value": "yes"}, auth),
        "labeled": (submit_url, {"item_id": first, "value": "no"}, auth),
    }[case]
    path, body, headers = request
    expected = {
        "bad token": 403,
        "other project": 404,
        "missing fields": 400,
        "bad json": 400,
        "never served": 404,
        "labeled": 409,
    }[case]
    fast_code, _, fast_body = lane.post(path, body, **headers)
    assert lane.app.app.calls == 0
    full_code, _, full_body = full.post(path, body, **headers)
    assert fast_code == full_code == expected
    if case == "bad json":
        # The parser's own message follows the prefix; only the prefix is DRF's.
        assert fast_body["detail"].startswith("JSON parse error - ")
        assert full_body["detail"].startswith("JSON parse error - ")
    else:
        assert fast_body == full_body
    assert Annotation.objects.filter(rater=rater).count() == (case == "labeled")


def test_browser_sessions_and_other_requests_go_through_django(
    lane, client, project, rater, items, token
):
    next_url, _ = paths(project)
    client.force_login(rater)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    # A session without a CSRF token is refused by Django's middleware, never served here.
    code, _, _ = lane.post(next_url, cookie=cookie)
    assert code == 403
    # No token: Django answers (DRF's "not provided").
    code, _, body = lane.post(next_url)
    assert code == 403 and "not provided" in body["detail"]
    # A host the server does not serve: Django's 400.
    code, _, _ = lane.post(next_url, authorization=f"Token {token}", host="evil.example")
    assert code == 400
    assert lane.app.app.calls == 3
    assert not Annotation.objects.exists()


def test_with_https_required_plain_http_is_redirected_by_django(
    settings, project, rater, items, token
):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    lane = Wsgi(QueueFastLane(get_wsgi_application()))
    code, headers, _ = lane.post(paths(project)[0], authorization=f"Token {token}")
    assert code == 301 and headers["Location"].startswith("https://")
    code, _, body = lane.post(
        paths(project)[0], authorization=f"Token {token}", x_forwarded_proto="https"
    )
    assert code == 200 and body["item"] is not None


def test_an_unexpected_error_is_logged_and_answered_500_without_details(
    lane, project, rater, items, token, caplog
):
    def broken(project_id, **_):
        raise RuntimeError(f"secret {uuid.uuid4()}")

    lane.app._next = broken
    code, _, body = lane.post(paths(project)[0], authorization=f"Token {token}")
    assert code == 500 and body == {"detail": "A server error occurred."}
    assert "secret" in caplog.text and "secret" not in json.dumps(body)
