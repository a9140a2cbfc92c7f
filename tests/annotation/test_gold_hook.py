"""The queue asks the gold policy before each claim; the claim takes an unseen gold item."""

from django.urls import reverse

from annotation.services import annotation_submit, assignment_next
from quality.services import gold_create
from tests.factories import ItemFactory


def every_slot_is_gold(*, membership, policy):
    return True


def _gold(project, text="a gold sentence"):
    return gold_create(
        project=project, data={"text": text}, pool="injection", answer="yes", explanation=""
    ).item


def test_the_queue_serves_the_policys_gold_item_through_the_same_path(
    settings, project, rater, items
):
    settings.VOX_GOLD_POLICY = "tests.annotation.test_gold_hook.every_slot_is_gold"
    gold = _gold(project)
    first = assignment_next(rater=rater, project=project)
    assert first.item == gold
    annotation_submit(rater=rater, item=first.item, value="yes", idempotency_key="g")
    # The pool is used up for this rater: live items follow.
    second = assignment_next(rater=rater, project=project)
    assert second.item != gold and not second.item.is_gold


def test_gold_items_are_never_served_as_live_items_without_the_policy(project, rater, items):
    gold = ItemFactory(project=project, is_gold=True, priority=100)
    served = []
    while (a := assignment_next(rater=rater, project=project)) is not None:
        served.append(a.item_id)
        annotation_submit(rater=rater, item=a.item, value="no", idempotency_key=str(a.item_id))
    assert gold.pk not in served and len(served) == len(items)


def test_no_gold_is_served_once_the_live_work_is_gone(settings, project, rater, items):
    settings.VOX_GOLD_POLICY = "tests.annotation.test_gold_hook.every_slot_is_gold"
    for item in items:
        a = assignment_next(rater=rater, project=project)
        annotation_submit(rater=rater, item=a.item, value="no", idempotency_key=str(a.item_id))
    gold = [_gold(project, f"check {i}") for i in range(3)]
    # Live items are all labelled by this rater; the gold pool is untouched, yet "nothing
    # left" must stay true, or every item served after it would be a check.
    assert assignment_next(rater=rater, project=project) is None
    assert not any(g.assignments.exists() for g in gold)


def test_a_gold_item_renders_with_the_live_template_and_url(
    settings, client, project, rater, items
):
    settings.VOX_GOLD_POLICY = "tests.annotation.test_gold_hook.every_slot_is_gold"
    _gold(project)
    client.force_login(rater)
    gold_page = client.get(reverse("annotation:label", args=[project.pk])).content.decode()
    assert "a gold sentence" in gold_page and "gold" not in gold_page.replace("a gold sentence", "")
