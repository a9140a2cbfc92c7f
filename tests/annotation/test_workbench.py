import re

from django.urls import reverse

from annotation.models import Annotation


def served_item_id(html: str) -> int:
    return int(re.search(r'name="item_id" value="(\d+)"', html).group(1))


def test_the_workbench_shows_the_item_escaped_with_keys_on_the_choices(
    client, project, rater, items
):
    items[0].data = {"text": "<script>alert(1)</script>"}
    items[0].save()
    client.force_login(rater)
    html = client.get(reverse("annotation:label", args=[project.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<kbd>1</kbd>" in html and "<kbd>2</kbd>" in html
    assert 'hx-post="/projects/' in html and "X-CSRFToken" in html


def test_an_htmx_submit_returns_the_next_item_as_a_fragment(client, project, rater, items):
    client.force_login(rater)
    page = client.get(reverse("annotation:label", args=[project.pk]))
    served = page.context["entry"]["item"]
    response = client.post(
        reverse("annotation:label-submit", args=[project.pk]),
        {"item_id": served.public_id, "value": "no", "idempotency_key": "abc", "active_ms": "1234"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="workbench"') and "<html" not in html
    assert served_item_id(html) != served.public_id
    annotation = Annotation.objects.get(rater=rater)
    assert (annotation.item_id, annotation.value, annotation.active_ms) == (served.pk, "no", 1234)


def test_submitting_without_an_answer_keeps_the_item_and_says_why(client, project, rater, items):
    client.force_login(rater)
    served = client.get(reverse("annotation:label", args=[project.pk])).context["entry"]["item"]
    response = client.post(
        reverse("annotation:label-submit", args=[project.pk]),
        {"item_id": served.public_id, "idempotency_key": "abc"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Pick an answer first." in response.content.decode()
    assert served_item_id(response.content.decode()) == served.public_id
    assert not Annotation.objects.exists()


def test_the_api_submits_and_returns_the_next_item_in_one_round_trip(client, project, rater, items):
    client.force_login(rater)
    first = client.post(reverse("api:next-item", args=[project.pk])).json()["item"]
    response = client.post(
        reverse("api:annotation-submit", args=[project.pk]),
        {"item_id": first["item_id"], "value": "yes", "idempotency_key": "k1"},
        content_type="application/json",
    )
    body = response.json()
    assert response.status_code == 201
    assert body["annotation"]["item_id"] == first["item_id"]
    assert body["next"]["item_id"] != first["item_id"]
    replay = client.post(
        reverse("api:annotation-submit", args=[project.pk]),
        {"item_id": first["item_id"], "value": "no", "idempotency_key": "k1", "next": False},
        content_type="application/json",
    )
    assert replay.json()["annotation"]["id"] == body["annotation"]["id"]
    assert Annotation.objects.count() == 1


def test_the_manager_sees_progress_and_exports_every_annotation(
    client, project, manager, rater, items
):
    client.force_login(rater)
    served = client.get(reverse("annotation:label", args=[project.pk])).context["entry"]["item"]
    client.post(
        reverse("annotation:label-submit", args=[project.pk]),
        {"item_id": served.public_id, "value": "yes", "idempotency_key": "e1"},
    )
    client.force_login(manager)
    page = client.get(reverse("tasks:project-detail", args=[project.pk])).content.decode()
    assert "rita" in page
    export = client.get(reverse("tasks:project-export", args=[project.pk]))
    import json

    rows = [json.loads(line) for line in b"".join(export.streaming_content).splitlines()]
    assert len(rows) == len(items)
    (row,) = [r for r in rows if r["annotations"]]
    assert row["item_id"] == served.pk
    assert row["annotations"][0]["rater"] == "rita" and row["annotations"][0]["value"] == "yes"
    assert row["annotations"][0]["created_at"]


def test_item_fields_render_chats_as_turns_and_text_as_markdown_in_its_own_direction(client, db):
    from tasks import schema as schemas
    from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

    project = ProjectFactory(
        kind="likert",
        schema=schemas.schema_validate("likert", {}),
        instructions="Rate **helpfulness** only.",
    )
    ItemFactory(
        project=project,
        data={
            "chat": [
                {"role": "user", "content": "Hi **there**"},
                {"role": "assistant", "content": "مرحبا"},
            ],
            "answer": "Use:\n\n```\nfor i in x:\n    pass\n```\n\n<script>x()</script>",
            "scores": {"a": 1},
        },
    )
    rater = UserFactory(username="lena")
    MembershipFactory(project=project, user=rater)
    client.force_login(rater)
    html = client.get(reverse("annotation:label", args=[project.pk])).content.decode()
    assert (
        '<div class="turn turn-assistant"><div class="turn-role">assistant</div><div class="markdown" dir="auto"><p>مرحبا</p>'
        in html
    )
    assert "Hi <strong>there</strong>" in html and '"role"' not in html
    assert "for i in x:\n    pass" in html and "<script>x()" not in html
    assert '<pre class="field-json" dir="auto">{\n  &quot;a&quot;: 1\n}</pre>' in html
    assert "Rate <strong>helpfulness</strong> only." in html


def test_every_kinds_widget_marks_its_text_blocks_for_their_own_direction():
    # Arabic or Hebrew items read right to left: every block of item text, and every box a
    # rater writes in, lets the browser pick the direction from the text.
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates" / "annotation"
    text_block = re.compile(r"<(?:textarea|div|pre)\b[^>]*(?:markdown|span-text|field-json)?[^>]*>")
    for path in [*root.glob("kinds/*.html"), root / "_fields.html", root / "_shown.html"]:
        for tag in text_block.findall(path.read_text()):
            if tag.startswith("<textarea") or re.search(r"markdown|span-text|field-json", tag):
                assert 'dir="auto"' in tag, (path.name, tag)


def _fetch_submit(client, project, panel_ids, served, *, shown):
    return client.post(
        reverse("annotation:label-submit", args=[project.pk]),
        {"item_id": served, "value": "yes", "idempotency_key": f"k{served}", "shown": shown},
        HTTP_HX_REQUEST="true",
        HTTP_X_VOX_FETCH="1",
    )


def test_a_workbench_submit_reads_the_users_row_only_with_its_seat(client, project, rater, items):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(rater)
    page = client.get(reverse("annotation:label", args=[project.pk])).content.decode()
    current, prefetched = (
        int(x) for x in re.findall(r'name="item_id" value="(\d+)"', page)[::2][:2]
    )
    with CaptureQueriesContext(connection) as queries:
        reply = _fetch_submit(client, project, None, current, shown=prefetched).json()
    assert reply["ok"] and reply["item_id"] == prefetched
    user_reads = [
        q["sql"] for q in queries if 'FROM "auth_user"' in q["sql"] and "JOIN" not in q["sql"]
    ]
    assert user_reads == []
    assert Annotation.objects.get(rater=rater).item.public_id == current


def test_the_workbench_still_signs_out_a_session_whose_password_changed(
    client, project, rater, items
):
    client.force_login(rater)
    url = reverse("annotation:label", args=[project.pk])
    assert client.get(url).status_code == 200
    rater.set_password("a-new-password-for-this-test")
    rater.save()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    submit = client.post(
        reverse("annotation:label-submit", args=[project.pk]),
        {"item_id": "1", "value": "yes", "idempotency_key": "k"},
    )
    assert submit.status_code == 302 and not Annotation.objects.exists()


def test_the_workbench_signs_out_a_deactivated_user_and_404s_a_non_member(
    client, project, rater, outsider, items
):
    client.force_login(outsider)
    assert client.get(reverse("annotation:label", args=[project.pk])).status_code == 404
    client.force_login(rater)
    rater.is_active = False
    rater.save()
    response = client.get(reverse("annotation:label", args=[project.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    anonymous = client.__class__()
    no_id = anonymous.post(reverse("annotation:label-submit", args=[project.pk]), {})
    assert no_id.status_code == 302  # the sign-in page before any check of the form
