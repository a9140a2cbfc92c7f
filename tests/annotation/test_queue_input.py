"""Malformed queue requests get 400 or 404, never 500, at every door."""

import pytest
from django.core.wsgi import get_wsgi_application
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotation.fastlane import QueueFastLane
from annotation.models import Annotation
from annotation.services import assignment_next
from tests.annotation.test_fast_lane import Wsgi

pytestmark = pytest.mark.django_db(transaction=True)

HUGE = 2**70


def test_ids_past_bigint_are_not_found_on_every_queue_url(client, project, rater, items):
    token = Token.objects.create(user=rater).key
    lane = Wsgi(QueueFastLane(get_wsgi_application()))
    client.force_login(rater)
    for name in ("next-item", "annotation-submit", "item-skip", "annotation-undo"):
        path = f"/api/projects/{HUGE}/" + reverse(f"api:{name}", args=[1]).split("/1/", 1)[1]
        assert client.post(path, {}, content_type="application/json").status_code == 404, path
        code, _, _ = lane.post(path, {"item_id": 1, "value": "yes"}, authorization=f"Token {token}")
        assert code == 404, path
    for name in ("label", "label-submit", "label-skip", "label-undo"):
        path = reverse(f"annotation:{name}", args=[1]).replace("/1/", f"/{HUGE}/", 1)
        response = client.post(path, {"item_id": "1"}) if "-" in name else client.get(path)
        assert response.status_code == 404, path


def test_item_ids_that_are_no_public_id_are_not_found(client, project, rater, items):
    client.force_login(rater)
    assignment_next(rater=rater, project=project)
    url = reverse("api:annotation-submit", args=[project.pk])
    for item_id in (HUGE, -1, 2**32, "1e9"):
        body = {"item_id": item_id, "value": "yes"}
        response = client.post(url, body, content_type="application/json")
        assert response.status_code in (400, 404), (item_id, response.content)
    form = reverse("annotation:label-submit", args=[project.pk])
    # No id at all is a 400 naming the field; a well-formed id never served is not found.
    for item_id in (str(HUGE), "-1", "abc", "1.5"):
        response = client.post(form, {"item_id": item_id, "value": "yes"})
        assert response.status_code == 400 and b"item_id" in response.content, item_id
    for item_id in ("", "12345"):
        assert client.post(form, {"item_id": item_id, "value": "yes"}).status_code == 404
    assert not Annotation.objects.exists()


def test_active_ms_out_of_range_and_a_nul_in_the_key_are_refused_by_field(
    client, project, rater, items
):
    client.force_login(rater)
    lease = assignment_next(rater=rater, project=project)
    url = reverse("api:annotation-submit", args=[project.pk])
    public = lease.item.public_id
    for field, value in (("active_ms", HUGE), ("active_ms", 2**31), ("idempotency_key", "a\x00b")):
        body = {"item_id": public, "value": "yes", field: value}
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400, (field, response.content)
        assert field in response.json()
    assert not Annotation.objects.exists()
