import pytest
from django.urls import reverse

from quality.dashboards import adjudications_for_items
from quality.models import Adjudication, GoldItem, RelabelRequest
from raters.models import Membership
from raters.pseudonyms import rater_pseudonym
from tests.factories import UserFactory
from tests.quality.dashboard_crowd import crowd_project


@pytest.fixture
def boss(db):
    return UserFactory(username="boss")


@pytest.fixture
def crowd(boss):
    return crowd_project(manager=boss, n_items=30)


def act(client, project, item_id, **data):
    return client.post(reverse("dashboards:review-act", args=[project.pk, item_id]), data)


def test_the_queue_opens_on_the_most_disputed_item(client, boss, crowd):
    project, _ = crowd
    client.force_login(boss)
    first = client.get(reverse("dashboards:api-review", args=[project.pk])).json()["results"][0]
    res = client.get(reverse("dashboards:review", args=[project.pk]))
    assert res.url == reverse("dashboards:review-item", args=[project.pk, first["item_id"]])


def test_answers_show_pseudonyms_unless_a_manager_asks_for_names(client, boss, crowd):
    project, users = crowd
    client.force_login(boss)
    item_id = project.items.first().pk
    url = reverse("dashboards:review-item", args=[project.pk, item_id])
    html = client.get(url).content.decode()
    assert rater_pseudonym(project.pk, users["careful0"].pk) in html
    assert "careful0" not in html
    assert "careful0" in client.get(url, {"names": "1"}).content.decode()
    reviewer = users["careful1"]
    Membership.objects.filter(project=project, user=reviewer).update(is_reviewer=True)
    client.force_login(reviewer)
    assert "careful0" not in client.get(url, {"names": "1"}).content.decode()


def test_a_final_label_overrides_and_is_marked_for_exports(client, boss, crowd):
    project, _ = crowd
    client.force_login(boss)
    item = project.items.first()
    res = act(client, project, item.pk, action="adjudicate", label="neutral", note="clear")
    assert res.status_code == 302
    adj = Adjudication.objects.get(item=item)
    assert adj.label == "neutral" and adj.decided_by == boss
    assert adjudications_for_items(project, [item.pk])[item.pk]["label"] == "neutral"
    # Adjudicated items leave the queue.
    queue = client.get(reverse("dashboards:api-review", args=[project.pk])).json()["results"]
    assert item.pk not in [q["item_id"] for q in queue]


def test_a_label_outside_the_schema_saves_nothing_and_says_which_field(client, boss, crowd):
    project, _ = crowd
    client.force_login(boss)
    item = project.items.first()
    res = act(client, project, item.pk, action="adjudicate", label="maybe")
    assert not Adjudication.objects.exists()
    page = client.get(res.url).content.decode()
    assert "Nothing saved. value: must be one of positive, negative, neutral" in page


def test_send_back_records_a_request_for_more_labels_once(client, boss, crowd):
    project, _ = crowd
    client.force_login(boss)
    item = project.items.first()
    act(client, project, item.pk, action="relabel", extra_labels="3", note="split vote")
    act(client, project, item.pk, action="relabel", extra_labels="2")
    req = RelabelRequest.objects.get(item=item)
    assert req.extra_labels == 3 and req.n_done_then == 11 and req.resolved_at is None
    act(client, project, item.pk, action="adjudicate", label="positive")
    req.refresh_from_db()
    assert req.resolved_at is not None


def test_a_manager_promotes_an_item_to_gold_with_an_explanation(client, boss, crowd):
    project, _ = crowd
    client.force_login(boss)
    item = project.items.first()
    promoted = GoldItem.objects.filter(source=GoldItem.Source.PROMOTED)
    act(client, project, item.pk, action="promote", label="negative")
    assert not promoted.exists()
    act(client, project, item.pk, action="promote", label="negative", explanation="sarcasm")
    gold = promoted.get()
    assert gold.answer == {"accept": ["negative"]} and gold.explanation == "sarcasm"
    assert gold.item.meta["promoted_from"] == item.pk


def test_a_reviewer_adjudicates_but_may_not_make_gold(client, crowd):
    project, users = crowd
    reviewer = users["careful2"]
    Membership.objects.filter(project=project, user=reviewer).update(is_reviewer=True)
    client.force_login(reviewer)
    from quality.dashboards import review_queue

    item = project.items.get(pk=review_queue(project)[0]["item_id"])
    assert act(client, project, item.pk, action="adjudicate", label="positive").status_code == 302
    assert Adjudication.objects.get(item=item).decided_by == reviewer
    res = act(client, project, item.pk, action="promote", label="positive", explanation="x")
    assert res.status_code == 404
    assert not GoldItem.objects.filter(source=GoldItem.Source.PROMOTED).exists()


def test_a_reviewer_opens_only_queued_items_and_gets_one_404_for_gold_and_live(client, crowd):
    from annotation.models import Assignment
    from quality.dashboards import review_queue
    from quality.services import gold_create

    project, users = crowd
    reviewer = users["careful2"]
    Membership.objects.filter(project=project, user=reviewer).update(is_reviewer=True)
    client.force_login(reviewer)
    queued = [d["item_id"] for d in review_queue(project, limit=None)]
    # A live item nobody disagrees on yet: it is not in the review queue.
    not_queued = project.items.create(data={"text": "calm"})
    gold = gold_create(
        project=project, data={"text": "a check"}, pool="injection", answer="positive"
    ).item

    def page(pk):
        response = client.get(reverse("dashboards:review-item", args=[project.pk, pk]))
        return response.status_code, response.content if response.status_code == 404 else b""

    assert page(queued[0])[0] == 200
    assert page(gold.pk) == page(not_queued.pk) == page(10**12)
    assert page(gold.pk)[0] == 404
    # A queued item on the reviewer's own screen: the other raters' answers stay hidden.
    Assignment.objects.update_or_create(
        item_id=queued[0],
        rater=reviewer,
        defaults={"project": project, "status": "active", "leased_at": gold.created_at,
                  "expires_at": gold.created_at},
    )  # fmt: skip
    assert page(queued[0]) == page(gold.pk)
