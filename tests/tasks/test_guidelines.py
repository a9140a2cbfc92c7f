from django.urls import reverse

from annotation.models import Annotation
from annotation.services import annotation_submit, assignment_next
from tasks.markdown import render_markdown
from tasks.models import GuidelineAck
from tasks.services import guideline_ack, guideline_publish


def test_guideline_markdown_keeps_formatting_and_drops_script_and_raw_html():
    html = render_markdown(
        "**Bold** and `code`\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))"
    )
    assert "<strong>Bold</strong>" in html and "<code>code</code>" in html
    assert "<script" not in html and 'href="javascript' not in html


def test_a_new_version_must_be_acknowledged_before_the_next_item(
    client, project, manager, rater, items
):
    guideline_publish(project=project, user=manager, body="Label **carefully**.")
    client.force_login(rater)
    response = client.get(reverse("annotation:label", args=[project.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("tasks:guideline-read", args=[project.pk])
    page = client.get(response["Location"]).content.decode()
    assert "<strong>carefully</strong>" in page and "I have read version 1" in page
    client.post(reverse("tasks:guideline-read", args=[project.pk]))
    assert GuidelineAck.objects.get(user=rater).acked_at is not None
    assert client.get(reverse("annotation:label", args=[project.pk])).status_code == 200

    guideline_publish(project=project, user=manager, body="Version two.")
    response = client.post(
        reverse("annotation:label-submit", args=[project.pk]),
        {"item_id": items[0].public_id, "value": "yes"},
        HTTP_HX_REQUEST="true",
    )
    assert response.headers["HX-Redirect"] == reverse("tasks:guideline-read", args=[project.pk])


def test_each_annotation_stores_the_guideline_version_it_was_made_under(
    project, manager, rater, items
):
    a = assignment_next(rater=rater, project=project)
    annotation_submit(rater=rater, item=a.item, value="yes", idempotency_key="1")
    guideline_publish(project=project, user=manager, body="v1")
    v2 = guideline_publish(project=project, user=manager, body="v2")
    # Every door holds back live items until the new version is acknowledged.
    assert assignment_next(rater=rater, project=project) is None
    guideline_ack(guideline=v2, user=rater)
    b = assignment_next(rater=rater, project=project)
    annotation_submit(rater=rater, item=b.item, value="yes", idempotency_key="2")
    assert list(Annotation.objects.order_by("id").values_list("guideline_version", flat=True)) == [
        None,
        2,
    ]
