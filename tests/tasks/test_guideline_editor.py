"""The managers' guideline page and API: publish with examples, see who has acknowledged."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tasks.models import Guideline
from tasks.schema import SchemaError
from tasks.services import guideline_ack, guideline_publish


def test_a_manager_publishes_a_version_with_worked_examples(client, project, manager, rater):
    client.force_login(manager)
    response = client.post(
        reverse("tasks:guideline-edit", args=[project.pk]),
        {
            "body": "# Rules\n\nBe **kind**.",
            "example_yes": "*Yes*: the text agrees.",
            "example_no": "",
        },
    )
    assert response.status_code == 302
    guideline = Guideline.objects.get(project=project)
    assert guideline.version == 1 and guideline.examples == {"yes": "*Yes*: the text agrees."}
    client.force_login(rater)
    page = client.get(reverse("tasks:guideline-read", args=[project.pk])).content.decode()
    assert "<em>Yes</em>: the text agrees." in page and "Worked examples" in page


def test_the_page_lists_who_has_not_acknowledged_and_when_others_did(
    client, project, manager, rater
):
    from tests.conftest import make_raters

    (late,) = make_raters(project, 1, prefix="late")
    guideline = guideline_publish(project=project, user=manager, body="v1")
    guideline_ack(guideline=guideline, user=rater)
    client.force_login(manager)
    page = client.get(reverse("tasks:guideline-edit", args=[project.pk])).content.decode()
    table = page[page.index('id="acks"') :]
    assert table.index("late0") < table.index("rita")
    assert "not yet" in table
    api = APIClient()
    api.force_authenticate(manager)
    acks = api.get(f"/api/projects/{project.pk}/guidelines/").data["acks"]
    assert acks[0] == {"username": "late0", "acked_at": None}
    assert acks[1]["username"] == "rita" and acks[1]["acked_at"] is not None


def test_the_preview_renders_markdown_without_raw_html(client, project, manager):
    client.force_login(manager)
    response = client.post(
        reverse("tasks:guideline-preview", args=[project.pk]),
        {"body": "**bold** <script>alert(1)</script>"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "<strong>bold</strong>" in html and "<script" not in html


def test_examples_must_name_label_options(project, manager):
    with pytest.raises(SchemaError) as exc:
        guideline_publish(project=project, user=manager, body="b", examples={"maybe": "x"})
    assert exc.value.field == "examples.maybe"


def test_the_api_publishes_and_annotators_acknowledge(project, manager, rater):
    api = APIClient()
    api.force_authenticate(manager)
    response = api.post(
        f"/api/projects/{project.pk}/guidelines/",
        {"body": "Read me", "examples": {"no": "Not at all."}},
        format="json",
    )
    assert response.status_code == 201 and response.data["version"] == 1
    api.force_authenticate(rater)
    current = api.get(f"/api/projects/{project.pk}/guidelines/").data
    assert current["current"]["examples"] == {"no": "Not at all."} and "acks" not in current
    assert api.post(f"/api/projects/{project.pk}/guidelines/").status_code == 404
    assert api.post(f"/api/projects/{project.pk}/guidelines/ack/").status_code == 201
    api.force_authenticate(manager)
    assert api.get(f"/api/projects/{project.pk}/guidelines/").data["acks"][0]["acked_at"]
