"""No request gets a 5xx: every URL pattern of the site, with each role, gets a corpus of
bad input (NUL characters, integers past bigint, huge strings, JSON nested 50,000 levels
deep, wrong types) in the path, the query, a form and a JSON body.

The patterns come from the URL resolver, so an endpoint added tomorrow is covered
without anyone listing it. The work queue's fast lane (config/wsgi.py), which answers
before Django's URL resolver, gets the same bodies through its own WSGI door.
"""

import json
import re

import pytest
from django.core.wsgi import get_wsgi_application
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token

from annotation.fastlane import QueueFastLane
from annotation.services import assignment_next
from quality.services import gold_create
from raters.models import Membership
from tests.annotation.test_fast_lane import Wsgi

pytestmark = pytest.mark.django_db(transaction=True)

HUGE = "9" * 40
DEEP = "[" * 50_000 + "]" * 50_000
VALUES = ["\x00", "a\x00b", HUGE, "x" * 20_000, "-1", "1.5", "abc", "", "[]", "{}"]
JSON_VALUES = [
    "\x00",
    int(HUGE),
    -(2**63),
    1.5,
    "x" * 20_000,
    None,
    True,
    [],
    {"a": {"b": ["\x00"]}},
    json.loads("[" * 70 + "1" + "]" * 70),  # deeper than any schema, shallower than DEEP
]
RAW_BODIES = [DEEP.encode(), b"{", b'{"a": NaN}', b"\xff\xfe", b'{"a": "\\u0000"}', b"[]", b"1"]
# The names forms and bodies use across Vox; any a view reads gets every value.
FIELDS = [
    "item_id", "value", "idempotency_key", "active_ms", "reason", "gold_id", "label",
    "action", "note", "explanation", "extra_labels", "name", "kind", "schema", "overlap",
    "instructions", "body", "membership", "shown", "username", "password", "method",
    "priority", "answer", "pool", "data", "role", "stage", "format", "text", "choices",
]  # fmt: skip
QUERY = ["limit", "offset", "q", "sort", "dir", "flag", "stage", "kind", "row", "names",
         "list", "page", "format", "run", "method", "status", "next"]  # fmt: skip


def _patterns(resolver=None, prefix=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def paths(ids: dict) -> list[str]:
    """Every route with its parameters filled: real ids, where the fixture has one, so that
    the bad input reaches the view's own code and not just a 404; and once with a string
    parameter given a NUL."""
    out = []
    for route in _patterns():
        if route.startswith(("admin/", "static/")) or "^" in route or "(" in route:
            continue
        filled = re.sub(
            r"<(?:(\w+):)?(\w+)>",
            lambda m: str(ids.get(m.group(2), 1)) if m.group(1) != "str" else "training",
            route,
        )
        out.append("/" + filled)
        if "<str:" in route:
            out.append("/" + re.sub(r"<str:\w+>", "%00", route.replace("<id:", "<")).replace(
                "<project_id>", str(ids["project_id"])
            ))  # fmt: skip
    return sorted(set(out))


def corpus():
    """(method, query, body, content type) for one path."""
    for v in VALUES:
        yield "get", {k: v for k in QUERY}, None, None
        yield "post", None, {k: v for k in FIELDS}, None
    yield "get", {"limit": HUGE, "offset": HUGE}, None, None
    yield "get", {"limit": HUGE}, None, None  # with offset 0, the page is not cut short
    yield "get", {"offset": HUGE, "limit": "1"}, None, None
    for v in JSON_VALUES:
        body = json.dumps({k: v for k in FIELDS}).encode()
        for method in ("post", "patch", "put"):
            yield method, None, body, "application/json"
    for raw in RAW_BODIES:
        for method in ("post", "patch"):
            yield method, None, raw, "application/json"
    yield "delete", None, None, None


@pytest.fixture
def world(project, manager, rater, items):
    Membership.objects.filter(project=project, user=rater).update(is_reviewer=False)
    gold = gold_create(project=project, data={"text": "a check"}, pool="training", answer="yes")
    assignment_next(rater=rater, project=project)
    ids = {
        "project_id": project.pk,
        "item_id": items[0].pk,
        "membership_id": Membership.objects.get(project=project, user=rater).pk,
        "gold_id": gold.pk,
    }
    return {"anonymous": None, "rater": rater, "manager": manager}, ids


def request(client, method, path, query, body, content_type):
    if method == "get":
        return client.get(path, query)
    if content_type is None:
        return getattr(client, method)(path, body or {})
    return getattr(client, method)(path, body, content_type=content_type)


@pytest.mark.parametrize("role", ["anonymous", "rater", "manager"])
def test_no_url_with_any_role_answers_bad_input_with_a_server_error(world, role):
    users, ids = world
    client = Client(raise_request_exception=False)
    failures, reached = [], 0
    all_paths = paths(ids)
    assert len(all_paths) > 60  # the resolver was walked, not a handful of routes
    for path in all_paths:
        for method, query, body, content_type in corpus():
            # Again before each request: a POST to the logout URL ends the session.
            if users[role] is not None:
                client.force_login(users[role])
            response = request(client, method, path, query, body, content_type)
            reached += response.status_code not in (302, 403, 404, 405)
            if response.status_code >= 500:
                sample = (body or b"")[:60] if isinstance(body, bytes) else str(query or body)[:60]
                failures.append((method, path, response.status_code, sample))
    assert not failures, "\n".join(map(str, failures))
    # The corpus reached views, not only the login redirect and the access checks.
    assert reached > (200 if role == "anonymous" else 1000), reached


def test_the_fast_lane_answers_bad_bodies_with_400_never_a_server_error(world):
    users, ids = world
    token = Token.objects.create(user=users["rater"]).key
    lane = Wsgi(QueueFastLane(get_wsgi_application()))
    path = f"/api/projects/{ids['project_id']}/annotations/"
    codes = set()
    for raw in RAW_BODIES:
        codes.add(lane.post(path, raw, authorization=f"Token {token}")[0])
    for v in JSON_VALUES:
        body = {k: v for k in FIELDS}
        codes.add(lane.post(path, body, authorization=f"Token {token}")[0])
    assert codes and max(codes) < 500, codes
    assert lane.post(path, DEEP.encode(), authorization=f"Token {token}")[0] == 400
