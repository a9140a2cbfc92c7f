"""Gold must be indistinguishable to raters, and its answers must never reach them."""

import json
import re
from collections import deque
from urllib.parse import urlparse

import pytest
from django.urls import reverse

from quality.services import gold_create, policy_update
from raters.models import Membership
from tests.conftest import make_raters

SECRET = "EXPLANATION-ONLY-MANAGERS-SEE"


@pytest.fixture
def gold_project(project, items):
    for i in range(6):
        gold_create(
            project=project,
            data={"text": f"item text {100 + i}"},
            pool="injection",
            answer="yes",
            explanation=SECRET,
        )
    return project


def skeleton(html: str) -> str:
    """The page with everything item-specific blanked: text, ids, keys and tokens."""
    html = re.sub(r"item text \d+", "TEXT", html)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "CSRF", html)
    html = re.sub(r"\b[0-9a-f]{32}\b", "KEY", html)
    return re.sub(r"\d+", "N", html)


def shape(value):
    """A JSON value's structure: keys and types, not contents."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


def serve(client, project, rater, rate):
    policy_update(
        project=project,
        gold_rate=rate,
        gold_rate_floor=0.0,
        adaptive_gold=False,
        suspend_min_gold=100,
    )
    client.force_login(rater)
    page = client.get(reverse("annotation:label", args=[project.pk]))
    api = client.post(reverse("api:next-item", args=[project.pk]))
    return page, api


def test_a_gold_item_and_a_live_item_look_the_same_to_the_rater(client, gold_project):
    gold_rater, live_rater = make_raters(gold_project, 2)
    gold_page, gold_api = serve(client, gold_project, gold_rater, 1.0)
    live_page, live_api = serve(client, gold_project, live_rater, 0.0)
    from annotation.models import Assignment

    assert Assignment.objects.filter(rater=gold_rater, item__is_gold=True).exists()
    assert not Assignment.objects.filter(rater=live_rater, item__is_gold=True).exists()
    assert gold_page.status_code == live_page.status_code == 200
    assert skeleton(gold_page.content.decode()) == skeleton(live_page.content.decode())
    assert gold_api.status_code == live_api.status_code == 200
    assert shape(gold_api.json()) == shape(live_api.json())

    def submit(rater, body):
        client.force_login(rater)
        return client.post(
            reverse("api:annotation-submit", args=[gold_project.pk]),
            {"item_id": body["item"]["item_id"], "value": "no"},
            content_type="application/json",
        )

    gold_reply, live_reply = (
        submit(gold_rater, gold_api.json()),
        submit(live_rater, live_api.json()),
    )
    assert gold_reply.status_code == live_reply.status_code == 201
    assert shape(gold_reply.json()) == shape(live_reply.json())


def test_public_ids_of_gold_and_live_items_share_one_range(gold_project):
    from tasks.models import Item

    gold = [i.public_id for i in Item.objects.filter(project=gold_project, is_gold=True)]
    live = [i.public_id for i in Item.objects.filter(project=gold_project, is_gold=False)]
    # Gold was created after every live item, yet its public ids fall among theirs.
    assert min(live) < max(gold) and min(gold) < max(live)


def crawl(client, start: list[str], limit=200) -> dict[str, str]:
    """Every same-site page and API response reachable from `start` by GET."""
    seen, queue, bodies = set(), deque(start), {}
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen or "logout" in url:
            continue
        seen.add(url)
        response = client.get(url, follow=True)
        body = response.content.decode(errors="replace") if hasattr(response, "content") else ""
        bodies[url] = body
        for href in re.findall(r'(?:href|hx-get|action)="([^"#]+)"', body):
            path = urlparse(href).path
            if path.startswith("/") and not path.startswith(("/static/", "/admin/")):
                queue.append(path)
    return bodies


def test_gold_answers_reach_no_page_or_api_response_a_rater_can_fetch(client, gold_project):
    (rater,) = make_raters(gold_project, 1)
    policy_update(project=gold_project, gold_rate=1.0, adaptive_gold=False, suspend_min_gold=100)
    client.force_login(rater)
    pk = gold_project.pk
    # Label a few items (all gold at this rate) so history pages have something to show.
    for _ in range(3):
        leased = client.post(reverse("api:next-item", args=[pk])).json()["item"]
        client.post(
            reverse("api:annotation-submit", args=[pk]),
            {"item_id": leased["item_id"], "value": "no", "next": False},
            content_type="application/json",
        )
    start = [
        "/",
        f"/projects/{pk}/label/",
        f"/projects/{pk}/me/",
        f"/projects/{pk}/guidelines/",
        "/api/projects/",
        f"/api/projects/{pk}/",
        "/api/schema/",
    ]
    bodies = crawl(client, start)
    bodies["next"] = json.dumps(client.post(reverse("api:next-item", args=[pk])).json())
    assert len(bodies) >= 6
    for url, body in bodies.items():
        assert SECRET not in body, url
        # Template syntax must never leak into a page (e.g. a multi-line {# #} comment).
        assert "{#" not in body and "{%" not in body, url
        if url != "/api/schema/":
            assert "is_gold" not in body and '"gold' not in body, url
    # Manager-only routes answer 404 to the rater, whatever they hold.
    for url in (
        f"/projects/{pk}/quality/",
        f"/projects/{pk}/",
        f"/api/projects/{pk}/items/",
        f"/api/projects/{pk}/export/",
        f"/api/projects/{pk}/rater-scores/",
        f"/api/projects/{pk}/aggregation-runs/",
    ):
        assert client.get(url).status_code == 404, url
    assert Membership.objects.get(user=rater).gold_n == 3
