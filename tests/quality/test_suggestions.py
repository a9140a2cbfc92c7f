"""Model suggestions on the workbench: a fixed share of raters sees the latest model run's
label, every answer records it for both groups, gold looks like any item, and the dashboard
measures the anchoring."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotation import queue
from annotation.models import Annotation
from modelruns.services import model_run_upload
from modelruns.suggestions import (
    anchoring_figures,
    in_shown_group,
    suggestion_status,
    suggestions_for,
)
from quality.dashboard_services import dashboard_snapshot_compute
from quality.models import GoldItem
from quality.services import gold_create, policy_update
from tasks.schema import SchemaError
from tests.conftest import make_raters


def predict(project, manager, items, probs=(0.9, 0.1)):
    """A run that says "yes" (by default) for every one of `items`."""
    body = "\n".join(
        json.dumps({"item_id": i.pk, "probs": {"yes": probs[0], "no": probs[1]}}) for i in items
    )
    return model_run_upload(
        project=project,
        user=manager,
        name="bert",
        version="1",
        file=SimpleUploadedFile("p.jsonl", body.encode()),
    )


def groups(project, raters, share):
    shown = [r for r in raters if in_shown_group(project.pk, r.pk, share)]
    hidden = [r for r in raters if not in_shown_group(project.pk, r.pk, share)]
    return shown, hidden


def label_all(project, rater, answer):
    """Label every item the queue serves this rater through the queue's own calls."""
    served = []
    while True:
        seat = queue.seat_read(project.pk, user=rater)
        lease = queue.next_lease(seat)
        if lease is None:
            return served
        seat = queue.seat_read(project.pk, user=rater, item=lease.item.public_id)
        queue.submit(seat, value=answer(lease.item), idempotency_key=f"{rater.pk}-{lease.pk}")
        served.append(lease.item)


def test_a_raters_group_is_stable_and_the_share_sets_its_size(project):
    ids = range(1, 2001)
    shown = [r for r in ids if in_shown_group(project.pk, r, 30)]
    assert 0.25 < len(shown) / 2000 < 0.35
    assert shown == [r for r in ids if in_shown_group(project.pk, r, 30)]
    assert not any(in_shown_group(project.pk, r, 0) for r in ids)
    assert all(in_shown_group(project.pk, r, 100) for r in ids)


def test_the_share_must_be_a_percentage(project):
    with pytest.raises(SchemaError) as err:
        policy_update(project=project, suggest_share=101)
    assert err.value.field == "suggest_share"


def test_raters_in_the_share_see_the_models_label_and_the_others_never_do(
    client, project, manager, items
):
    predict(project, manager, items)
    policy_update(project=project, suggest_share=50)
    shown, hidden = groups(project, make_raters(project, 12), 50)
    assert shown and hidden
    for rater, sees in ((shown[0], True), (hidden[0], False)):
        client.force_login(rater)
        page = client.get(reverse("annotation:label", args=[project.pk]))
        html = page.content.decode()
        assert ('data-suggestion="yes"' in html) is sees
        assert ("Model suggests" in html) is sees
        # Shown as a hint beside the answer, never pre-selected.
        assert "checked" not in html
        item = client.post(reverse("api:next-item", args=[project.pk])).json()["item"]
        assert item["suggestion"] == ("yes" if sees else None)


def test_every_answer_records_the_models_label_and_whether_its_rater_saw_it(
    project, manager, items
):
    predict(project, manager, items[:4])  # item 4 has no prediction
    policy_update(project=project, suggest_share=50)
    shown, hidden = groups(project, make_raters(project, 12), 50)
    project.overlap = 5
    project.save()
    label_all(project, shown[0], lambda item: "yes")
    label_all(project, hidden[0], lambda item: "no")
    recorded = {
        (a.rater_id, a.item_id): (
            a.presentation.get("suggestion"),
            a.presentation.get("suggestion_shown"),
        )
        for a in Annotation.objects.all()
    }
    for item in items[:4]:
        assert recorded[(shown[0].pk, item.pk)] == ("yes", True)
        assert recorded[(hidden[0].pk, item.pk)] == ("yes", False)
    assert recorded[(shown[0].pk, items[4].pk)] == (None, None)
    figures = anchoring_figures(project)
    assert (figures["shown"]["n"], figures["shown"]["share"]) == (4, 1.0)
    assert (figures["hidden"]["n"], figures["hidden"]["share"]) == (4, 0.0)
    assert figures["effect"] == 1.0
    assert figures["shown"]["lower"] < 1.0 and figures["hidden"]["upper"] > 0.0
    snapshot = dashboard_snapshot_compute(project_id=project.pk)
    assert snapshot.data["suggestions"]["effect"] == 1.0


def test_the_api_tells_a_manager_whether_suggestions_are_on_and_their_anchoring(
    client, project, manager, rater, items
):
    client.force_login(manager)
    url = reverse("api:suggestions", args=[project.pk])
    off = client.get(url).json()
    assert (off["active"], off["model_run"], off["anchoring"]) == (False, None, None)
    assert off["why"] == "no model run has finished yet"
    run = predict(project, manager, items)
    policy_update(project=project, suggest_share=100)
    label_all(project, rater, lambda item: "yes")
    on = client.get(url).json()
    assert (on["active"], on["share"], on["model_run"]) == (True, 100, run.pk)
    assert on["anchoring"]["shown"]["n"] == len(items) and on["anchoring"]["effect"] is None
    client.force_login(rater)
    assert client.get(url).status_code == 404


def test_the_dashboard_shows_agreement_with_the_model_in_each_group(
    client, project, manager, items
):
    predict(project, manager, items)
    policy_update(project=project, suggest_share=50)
    shown, hidden = groups(project, make_raters(project, 12), 50)
    project.overlap = 5
    project.save()
    label_all(project, shown[0], lambda item: "yes")
    label_all(project, hidden[0], lambda item: "yes" if item.pk == items[0].pk else "no")
    dashboard_snapshot_compute(project_id=project.pk)
    client.force_login(manager)
    html = client.get(reverse("dashboards:project", args=[project.pk])).content.decode()
    assert 'id="anchoring"' in html
    assert "+80 points" in html  # 100% against 20% agreement with the model


def test_a_run_without_every_silent_gold_item_suggests_nothing_to_anyone(
    client, project, manager, items
):
    gold = gold_create(
        project=project, data={"text": "a check"}, pool=GoldItem.Pool.INJECTION, answer="yes"
    )
    policy_update(project=project, suggest_share=100)
    (rater,) = make_raters(project, 1)
    predict(project, manager, items)
    # Live items only: a hint on every live item and none on gold would mark the gold.
    assert suggestions_for(project, rater.pk, [i.pk for i in items]) is None
    status = suggestion_status(project)
    assert not status["active"] and "1 silent gold item" in status["why"]
    client.force_login(manager)
    page = client.get(reverse("quality:page", args=[project.pk])).content.decode()
    assert "1 silent gold item" in page
    run = predict(project, manager, [*items, gold.item])
    found = suggestions_for(project, rater.pk, [items[0].pk, gold.item_id])
    assert found.run_id == run.pk and found.shown
    # Gold gets its hint like any item.
    assert found.labels == {items[0].pk: "yes", gold.item_id: "yes"}
    assert suggestion_status(project)["active"]


def test_silent_gold_served_to_a_shown_rater_carries_a_suggestion_like_live_items(
    client, project, manager, items
):
    gold = gold_create(
        project=project, data={"text": "a check"}, pool=GoldItem.Pool.INJECTION, answer="no"
    )
    predict(project, manager, [*items, gold.item])
    policy_update(project=project, suggest_share=100, gold_rate=1.0, gold_rate_new=1.0)
    (rater,) = make_raters(project, 1)
    client.force_login(rater)
    seen = {}
    for _ in range(len(items) + 1):
        item = client.post(reverse("api:next-item", args=[project.pk])).json()["item"]
        if item is None:
            break
        seen[item["item_id"]] = item
        client.post(
            reverse("api:annotation-submit", args=[project.pk]),
            {"item_id": item["item_id"], "value": "yes", "next": False},
            content_type="application/json",
        )
    assert gold.item.public_id in seen and len(seen) > 1
    assert {json.dumps(sorted(i)) for i in seen.values()} == {
        json.dumps(sorted(next(iter(seen.values()))))
    }
    assert all(i["suggestion"] == "yes" for i in seen.values())
    answer = Annotation.objects.get(item=gold.item)
    assert answer.presentation["suggestion_shown"] is True


def test_pairwise_projects_show_no_suggestions_since_their_sides_may_be_swapped(db):
    from tests.aggregation.test_kinds import make

    pairwise = make("pairwise", {}, overlap=2)
    policy_update(project=pairwise, suggest_share=100)
    assert suggestions_for(pairwise, 1, [1]) is None
    assert suggestion_status(pairwise)["why"] == "suggestions are for single-choice projects"
