"""Every door of the work queue gives the same outcome for the same rater.

The three doors are the browser's workbench (session and CSRF, htmx), the API through
Django (session or token, DRF) and the API's fast lane (token, no Django request cycle).
Each is asked for the next item and sent the answer to an item the rater holds, in each
state a rater can be in; the gate decides for all of them alike.
"""

import pytest
from django.core.wsgi import get_wsgi_application
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotation.fastlane import QueueFastLane
from annotation.models import Annotation
from annotation.services import assignment_next
from quality.services import policy_update
from raters.models import Membership, Stage
from tasks.services import guideline_publish
from tests.annotation.test_fast_lane import Wsgi

pytestmark = pytest.mark.django_db(transaction=True)

STATES = ["qualified", "guideline not acknowledged", "calibration due", "suspended", "training"]
# What the gate says in each state; None: the rater is served.
EXPECTED = {
    "qualified": None,
    "guideline not acknowledged": "guideline",
    "calibration due": "calibration",
    "suspended": "suspended",
    "training": "onboarding",
}


def put_in_state(state, project, rater, manager):
    membership = Membership.objects.get(project=project, user=rater)
    if state == "guideline not acknowledged":
        guideline_publish(project=project, user=manager, body="Read this first.")
    elif state == "calibration due":
        policy_update(project=project, calibration_every_items=3)
        Membership.objects.filter(pk=membership.pk).update(live_since_calibration=3)
    elif state == "suspended":
        Membership.objects.filter(pk=membership.pk).update(stage=Stage.SUSPENDED)
    elif state == "training":
        Membership.objects.filter(pk=membership.pk).update(stage=Stage.TRAINING)


class BrowserDoor:
    """The workbench as workbench.js drives it: htmx requests with the session's CSRF."""

    def __init__(self, rater, project):
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(rater)
        self.project = project
        self.client.get(reverse("home"))

    def _csrf(self):
        return {"HTTP_X_CSRFTOKEN": self.client.cookies["csrftoken"].value}

    def next(self):
        page = self.client.get(reverse("annotation:label", args=[self.project.pk]))
        if page.status_code == 302:
            return page.headers["X-Vox-Gate"]
        assert page.status_code == 200
        return None

    def submit(self, item):
        response = self.client.post(
            reverse("annotation:label-submit", args=[self.project.pk]),
            {"item_id": item.public_id, "value": "yes", "idempotency_key": "door"},
            HTTP_HX_REQUEST="true",
            HTTP_X_VOX_FETCH="1",
            **self._csrf(),
        )
        assert response.status_code == 200
        body = response.json()
        return body.get("reason") if body.get("redirect") else None


class ApiDoor:
    """The API through Django's request cycle, as a session client (DRF)."""

    def __init__(self, rater, project):
        self.client = Client()
        self.client.force_login(rater)
        self.project = project

    def _post(self, name, body=None):
        return self.client.post(
            reverse(name, args=[self.project.pk]), body or {}, content_type="application/json"
        )

    def next(self):
        return self._reason(self._post("api:next-item"), 200)

    def submit(self, item):
        body = {"item_id": item.public_id, "value": "yes", "idempotency_key": "door"}
        return self._reason(self._post("api:annotation-submit", {**body, "next": False}), 201)

    @staticmethod
    def _reason(response, ok):
        if response.status_code == 409:
            return response.json()["reason"]
        assert response.status_code == ok, response.content
        return None


class FastLaneDoor:
    """The API's fast lane, as token clients reach it."""

    def __init__(self, rater, project):
        self.app = Wsgi(QueueFastLane(get_wsgi_application()))
        self.auth = {"authorization": f"Token {Token.objects.create(user=rater).key}"}
        self.project = project

    def next(self):
        code, _, body = self.app.post(reverse("api:next-item", args=[self.project.pk]), **self.auth)
        return self._reason(code, body, 200)

    def submit(self, item):
        body = {"item_id": item.public_id, "value": "yes", "idempotency_key": "door", "next": False}
        url = reverse("api:annotation-submit", args=[self.project.pk])
        code, _, answer = self.app.post(url, body, **self.auth)
        return self._reason(code, answer, 201)

    @staticmethod
    def _reason(code, body, ok):
        if code == 409:
            return body["reason"]
        assert code == ok, body
        return None


DOORS = {"browser": BrowserDoor, "api": ApiDoor, "fast lane": FastLaneDoor}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("door", list(DOORS))
def test_each_door_gives_the_gates_outcome_for_next_and_submit(
    door, state, project, manager, rater, items
):
    held = assignment_next(rater=rater, project=project)  # leased while qualified
    put_in_state(state, project, rater, manager)
    client = DOORS[door](rater, project)
    expected = EXPECTED[state]
    assert client.submit(held.item) == expected
    assert Annotation.objects.filter(rater=rater).exists() == (expected is None)
    assert client.next() == expected


@pytest.mark.parametrize("door", list(DOORS))
def test_a_suspension_withdraws_held_gold_and_live_leases_alike(door, project, rater, items):
    from quality.services import gold_create
    from raters.services import stage_change

    gold = gold_create(
        project=project, data={"text": "check"}, pool="injection", answer="yes", explanation=""
    )
    policy_update(project=project, adaptive_gold=False, gold_rate=0.0, gold_rate_floor=0.0)
    live = assignment_next(rater=rater, project=project)
    assert not live.item.is_gold
    # A prefetched gold lease beside the open live one.
    from annotation.models import Assignment

    Assignment.objects.create(
        project=project,
        item=gold.item,
        rater=rater,
        status="queued",
        leased_at=live.leased_at,
        expires_at=live.expires_at,
    )
    membership = Membership.objects.get(project=project, user=rater)
    stage_change(membership=membership, to=Stage.SUSPENDED, reason="test")
    assert set(Assignment.objects.filter(rater=rater).values_list("status", flat=True)) == {
        "expired"
    }
    client = DOORS[door](rater, project)
    assert client.next() == "suspended"
