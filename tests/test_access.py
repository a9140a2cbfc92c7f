"""One chokepoint per object: outsiders get 404 everywhere, annotators only their own work."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotation.services import annotation_submit, assignment_next


@pytest.fixture
def labelled(project, rater, items):
    a = assignment_next(rater=rater, project=project)
    annotation_submit(rater=rater, item=a.item, value="yes", idempotency_key="k")
    return a.item


def pages(project, item):
    return [
        reverse("tasks:project-detail", args=[project.pk]),
        reverse("tasks:project-export", args=[project.pk]),
        reverse("annotation:label", args=[project.pk]),
        reverse("api:project-detail", args=[project.pk]),
        reverse("api:item-list", args=[project.pk]),
        reverse("api:project-export", args=[project.pk]),
        reverse("api:project-progress", args=[project.pk]),
    ]


def test_an_annotator_of_another_project_gets_404_on_its_items_api_and_export(
    client, project, outsider, labelled
):
    client.force_login(outsider)
    for url in pages(project, labelled):
        assert client.get(url).status_code == 404, url
    for url in (
        reverse("api:next-item", args=[project.pk]),
        reverse("api:annotation-submit", args=[project.pk]),
    ):
        assert (
            client.post(
                url,
                {"item_id": labelled.public_id, "value": "yes"},
                content_type="application/json",
            ).status_code
            == 404
        ), url


def test_an_annotator_cannot_reach_manager_pages_or_the_export(client, project, rater, labelled):
    client.force_login(rater)
    for url in (
        reverse("tasks:project-detail", args=[project.pk]),
        reverse("tasks:project-export", args=[project.pk]),
        reverse("api:item-list", args=[project.pk]),
        reverse("api:project-export", args=[project.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_an_annotator_cannot_submit_an_item_that_was_not_served_to_them(
    client, project, rater, items
):
    client.force_login(rater)
    response = client.post(
        reverse("api:annotation-submit", args=[project.pk]),
        {"item_id": items[-1].public_id, "value": "yes"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, project):
    response = client.get(reverse("annotation:label", args=[project.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(reverse("api:project-list")).status_code in (401, 403)


def test_the_api_accepts_token_auth(client, project, rater, items):
    token = Token.objects.create(user=rater)
    response = client.post(
        reverse("api:next-item", args=[project.pk]), HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.status_code == 200 and response.json()["item"]["item_id"] in {
        i.public_id for i in items
    }


def test_a_post_without_a_csrf_token_is_rejected(project, rater, items):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(rater)
    response = strict.post(
        reverse("annotation:label-submit", args=[project.pk]),
        {"item_id": items[0].public_id, "value": "yes"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 403
