"""The queue asks the quality layer for gold before each new lease (stub policy here)."""

from django.urls import reverse

from annotation.services import annotation_submit, assignment_next
from tests.factories import ItemFactory

GOLD = {}


def serve_the_gold_item_once(*, rater, project, membership=None):
    item = GOLD.get(project.pk)
    if item is not None and not item.assignments.filter(rater=rater).exists():
        return item
    return None


def test_the_queue_serves_the_policys_gold_item_through_the_same_path(
    settings, project, rater, items
):
    settings.VOX_GOLD_POLICY = "tests.annotation.test_gold_hook.serve_the_gold_item_once"
    gold = ItemFactory(project=project, is_gold=True, data={"text": "a gold sentence"})
    GOLD[project.pk] = gold
    first = assignment_next(rater=rater, project=project)
    assert first.item == gold
    annotation_submit(rater=rater, item=first.item, value="yes", idempotency_key="g")
    second = assignment_next(rater=rater, project=project)
    assert second.item != gold and not second.item.is_gold


def test_gold_items_are_never_served_as_live_items_without_the_policy(project, rater, items):
    gold = ItemFactory(project=project, is_gold=True, priority=100)
    served = []
    while (a := assignment_next(rater=rater, project=project)) is not None:
        served.append(a.item_id)
        annotation_submit(rater=rater, item=a.item, value="no", idempotency_key=str(a.item_id))
    assert gold.pk not in served and len(served) == len(items)


def test_a_gold_item_renders_with_the_live_template_and_url(
    settings, client, project, rater, items
):
    settings.VOX_GOLD_POLICY = "tests.annotation.test_gold_hook.serve_the_gold_item_once"
    gold = ItemFactory(project=project, is_gold=True, data={"text": "a gold sentence"})
    GOLD[project.pk] = gold
    client.force_login(rater)
    gold_page = client.get(reverse("annotation:label", args=[project.pk])).content.decode()
    assert "a gold sentence" in gold_page and "gold" not in gold_page.replace("a gold sentence", "")
