"""The manager's item browser: paging, filters, edits before answers, and bulk actions."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from aggregation.models import ItemResult
from annotation.models import Assignment
from quality.dashboard_services import dashboard_snapshot_compute, item_agreement
from quality.models import GoldItem, RelabelRequest
from quality.services import gold_create
from raters.pseudonyms import is_pseudonym, rater_pseudonym
from tasks import schema as schemas
from tasks.models import Item, Project
from tasks.selectors import ItemFilters, item_filters_parse, items_browse
from tests.aggregation.helpers import annotate
from tests.aggregation.test_kinds import run_now
from tests.conftest import make_raters
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def browse_url(project, **query):
    url = reverse("tasks:item-browser", args=[project.pk])
    return url, query


def shown_ids(response) -> list[int]:
    return [int(x) for x in re.findall(r'<tr data-item="(\d+)"', response.content.decode())]


def browse(client, project, **query):
    response = client.get(reverse("tasks:item-browser", args=[project.pk]), query)
    assert response.status_code == 200
    return response


@pytest.fixture
def mona(client, manager):
    client.force_login(manager)
    return client


# --- Paging ---------------------------------------------------------------------------------


def test_paging_with_the_cursor_returns_every_item_exactly_once(project):
    made = ItemFactory.create_batch(123, project=project)
    seen, after, pages = [], None, 0
    while True:
        page = items_browse(project, ItemFilters(), after=after)
        seen += [r["item"].pk for r in page.rows]
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after
    assert pages == 3
    assert sorted(seen) == sorted(i.pk for i in made)
    assert len(seen) == len(set(seen))


def test_the_next_link_carries_the_cursor_and_the_filters(mona, project):
    ItemFactory.create_batch(60, project=project)
    first = browse(mona, project, gold="no")
    assert len(shown_ids(first)) == 50
    link = re.search(r'href="\?([^"]+)"[^>]*rel="next"', first.content.decode()).group(1)
    assert "gold=no" in link and "after=" in link
    second = mona.get(
        reverse("tasks:item-browser", args=[project.pk]) + "?" + link.replace("&amp;", "&")
    )
    assert len(shown_ids(second)) == 10
    assert not set(shown_ids(first)) & set(shown_ids(second))


def test_an_htmx_request_gets_the_table_alone(mona, project, items):
    response = mona.get(reverse("tasks:item-browser", args=[project.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="item-table"' in body and "<html" not in body
    assert len(shown_ids(response)) == 5


# --- Filters --------------------------------------------------------------------------------


def test_the_state_filter_tells_untouched_in_progress_and_complete_apart(mona, project, items):
    Item.objects.filter(pk=items[1].pk).update(n_done=1)
    Item.objects.filter(pk=items[2].pk).update(n_open=1)
    Item.objects.filter(pk=items[3].pk).update(n_done=project.overlap)
    assert shown_ids(browse(mona, project, state="untouched")) == [items[0].pk, items[4].pk]
    assert shown_ids(browse(mona, project, state="in_progress")) == [items[1].pk, items[2].pk]
    assert shown_ids(browse(mona, project, state="complete")) == [items[3].pk]


def test_gold_items_are_shown_marked_and_the_gold_filter_narrows_to_them(mona, project, items):
    gold = gold_create(project=project, data={"text": "a check"}, pool="training", answer="yes")
    everything = browse(mona, project)
    assert gold.item_id in shown_ids(everything)
    assert 'class="tag">gold<' in everything.content.decode()
    assert shown_ids(browse(mona, project, gold="yes")) == [gold.item_id]
    assert shown_ids(browse(mona, project, gold="no")) == [i.pk for i in items]


def test_the_confidence_filter_reads_the_current_run(mona, project, items):
    a, b = make_raters(project, 2)
    annotate(items[0], a, "yes")
    annotate(items[0], b, "yes")
    annotate(items[1], a, "yes")
    annotate(items[1], b, "no")
    assert shown_ids(browse(mona, project, confidence_below="0.9")) == []  # no run yet
    run_now(project, method="majority")
    page = browse(mona, project, confidence_below="0.9")
    assert shown_ids(page) == [items[1].pk]
    assert "<code>" in page.content.decode()  # the aggregate label is shown


def test_the_rater_filter_keeps_the_items_that_rater_answered(mona, project, items, rater):
    annotate(items[2], rater, "yes")
    (other,) = make_raters(project, 1, prefix="other")
    annotate(items[3], other, "no")
    assert shown_ids(browse(mona, project, rater="rita")) == [items[2].pk]
    assert shown_ids(browse(mona, project, rater="nobody")) == []


def test_the_skip_reason_filter_finds_items_skipped_with_that_reason(mona, project, items, rater):
    now = timezone.now()
    for item, reason in ((items[1], "Text is in German"), (items[2], "too long")):
        Assignment.objects.create(
            project=project,
            item=item,
            rater=rater,
            status=Assignment.Status.SKIPPED,
            leased_at=now,
            expires_at=now,
            skip_reason=reason,
        )
    assert shown_ids(browse(mona, project, skip_reason="german")) == [items[1].pk]


def test_the_text_search_looks_inside_the_item_data(mona, project, items):
    odd = ItemFactory(project=project, data={"text": "The Quick brown fox"})
    assert shown_ids(browse(mona, project, text="quick BROWN")) == [odd.pk]


def test_item_text_is_escaped(mona, project):
    ItemFactory(project=project, data={"text": "<script>alert(1)</script>"})
    body = browse(mona, project).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)" not in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"confidence_below": "abc"}, "confidence_below: must be a number between 0 and 1"),
        ({"confidence_below": "nan"}, "confidence_below: must be a number between 0 and 1"),
        ({"confidence_below": "7"}, "confidence_below: must be a number between 0 and 1"),
        ({"state": "done-ish"}, "state: must be one of"),
        ({"gold": "maybe"}, "gold: must be yes or no"),
        ({"after": "9" * 40}, "after: must be a whole-number item id"),
    ],
)
def test_a_bad_filter_value_gives_a_message_and_the_list(mona, project, items, query, message):
    response = browse(mona, project, **query)
    assert message in response.content.decode()
    assert len(shown_ids(response)) == 5


def test_a_nul_in_a_text_filter_is_named_and_dropped():
    # The site refuses NUL in a query string before any view (400); the parser does not
    # rely on that, since PostgreSQL would refuse the parameter with a 500.
    filters, errors = item_filters_parse({"rater": "a\x00b"})
    assert filters.rater == ""
    assert errors == ["rater: must not contain a NUL character"]


# --- Access ---------------------------------------------------------------------------------


def test_an_annotator_and_an_outsider_get_404(client, project, items, rater, outsider):
    item = items[0]
    urls = [
        ("get", reverse("tasks:item-browser", args=[project.pk])),
        ("get", reverse("tasks:item-edit", args=[project.pk, item.pk])),
        ("post", reverse("tasks:item-edit", args=[project.pk, item.pk])),
        ("post", reverse("tasks:item-delete", args=[project.pk, item.pk])),
        ("post", reverse("tasks:items-bulk", args=[project.pk])),
    ]
    for user in (rater, outsider):
        client.force_login(user)
        for method, url in urls:
            response = getattr(client, method)(url, {"item_ids": [item.pk], "action": "delete"})
            assert response.status_code == 404, (user, url)
    assert Item.objects.filter(pk=item.pk).exists()


def test_the_project_page_links_the_item_browser(mona, project):
    body = mona.get(reverse("tasks:project-detail", args=[project.pk])).content.decode()
    assert reverse("tasks:item-browser", args=[project.pk]) in body


# --- Edit and delete ------------------------------------------------------------------------


def edit(client, project, item, text):
    return client.post(reverse("tasks:item-edit", args=[project.pk, item.pk]), {"data": text})


def test_an_edit_saves_valid_data(mona, project, items):
    response = edit(mona, project, items[0], '{"text": "fixed typo", "priority": 4}')
    assert response.status_code == 302
    items[0].refresh_from_db()
    assert items[0].data == {"text": "fixed typo"}
    assert items[0].priority == 4


def test_an_edit_names_the_bad_field_and_saves_nothing(mona, project, items):
    response = edit(mona, project, items[0], '{"text": "ok", "priority": "high"}')
    assert response.status_code == 200
    assert "priority: must be an integer" in response.content.decode()
    response = edit(mona, project, items[0], "{not json")
    assert "data: JSON parse error" in response.content.decode()
    items[0].refresh_from_db()
    assert items[0].data["text"].startswith("item text")


def test_an_edit_is_refused_once_the_item_has_an_answer(mona, project, items, rater):
    annotate(items[0], rater, "yes")
    before = items[0].data
    response = edit(mona, project, items[0], '{"text": "changed"}')
    assert response.status_code == 302
    items[0].refresh_from_db()
    assert items[0].data == before
    page = mona.get(response.url).content.decode()
    assert "has answers or an open lease" in page
    opened = mona.get(reverse("tasks:item-edit", args=[project.pk, items[0].pk]), follow=True)
    assert "has answers or an open lease" in opened.content.decode()
    assert 'name="data"' not in opened.content.decode()


def test_a_delete_keeps_the_project_item_count_right(mona, project, items, rater):
    assert Project.objects.get(pk=project.pk).n_items == 5
    mona.post(reverse("tasks:item-delete", args=[project.pk, items[0].pk]))
    assert Project.objects.get(pk=project.pk).n_items == 4
    annotate(items[1], rater, "yes")
    mona.post(reverse("tasks:item-delete", args=[project.pk, items[1].pk]))
    assert Item.objects.filter(pk=items[1].pk).exists()
    assert Project.objects.get(pk=project.pk).n_items == 4


# --- Bulk actions ---------------------------------------------------------------------------


def bulk(client, project, items, action, **fields):
    response = client.post(
        reverse("tasks:items-bulk", args=[project.pk]),
        {"item_ids": [i.pk for i in items], "action": action, **fields},
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def test_bulk_set_priority_sets_it_on_every_checked_item(mona, project, items):
    body = bulk(mona, project, items[:3], "priority", priority="7")
    assert "3 items priority set." in body
    assert [i.priority for i in Item.objects.filter(project=project).order_by("pk")] == [
        7, 7, 7, 0, 0,
    ]  # fmt: skip


def test_bulk_set_priority_refuses_a_bad_number_and_changes_nothing(mona, project, items):
    body = bulk(mona, project, items, "priority", priority="lots")
    assert "Nothing was changed. priority: must be a whole number" in body
    assert not Item.objects.filter(project=project).exclude(priority=0).exists()


def test_bulk_relabel_asks_for_more_labels_and_skips_gold(mona, project, items):
    gold = gold_create(project=project, data={"text": "a check"}, pool="training", answer="yes")
    body = bulk(mona, project, [*items[:2], gold.item], "relabel", extra_labels="3")
    assert "2 items sent back for more labels. 1 skipped" in body
    assert RelabelRequest.objects.filter(item__in=items[:2], extra_labels=3).count() == 2
    body = bulk(mona, project, items[:2], "relabel", extra_labels="50")
    assert "Nothing was changed. extra labels: must be between 1 and 20" in body


def test_bulk_promote_makes_gold_of_items_with_an_aggregate_and_skips_the_rest(
    mona, project, items
):
    a, b = make_raters(project, 2)
    for r in (a, b):
        annotate(items[0], r, "yes")
    run_now(project, method="majority")
    body = bulk(mona, project, items[:3], "gold")
    assert "1 item promoted to gold. 2 skipped" in body
    promoted = GoldItem.objects.get(item__meta__promoted_from=items[0].pk)
    assert promoted.item.is_gold and promoted.item.data == items[0].data


def test_bulk_delete_deletes_unanswered_items_and_counts_the_skipped(mona, project, items, rater):
    annotate(items[0], rater, "yes")
    Item.objects.filter(pk=items[0].pk).update(n_done=1)
    body = bulk(mona, project, items[:3], "delete")
    assert "2 items deleted. 1 skipped" in body
    assert list(Item.objects.filter(project=project).order_by("pk")) == [items[0], *items[3:]]
    assert Project.objects.get(pk=project.pk).n_items == 3


def test_bulk_ignores_items_of_another_project(mona, project, items):
    stranger = ItemFactory()
    body = bulk(mona, project, [stranger], "delete")
    assert "0 items deleted." in body
    assert Item.objects.filter(pk=stranger.pk).exists()


def test_an_item_a_rater_holds_a_lease_on_is_not_deleted(mona, project, items, rater):
    from annotation.services import assignment_next

    assignment_next(rater=rater, project=project)
    leased = Assignment.objects.get(rater=rater, status=Assignment.Status.ACTIVE).item_id
    body = bulk(mona, project, items, "delete")
    assert "4 items deleted. 1 skipped" in body
    assert list(Item.objects.filter(project=project).values_list("pk", flat=True)) == [leased]


# --- Agreement, tags and pseudonyms ----------------------------------------------------------


def test_item_agreement_is_the_share_of_votes_on_the_most_common_answer():
    votes = [(1, 10, "yes"), (1, 11, "yes"), (1, 12, "no"), (2, 10, "a"), (2, 11, "b")]
    votes += [(3, 10, "yes"), (4, 10, "no"), (4, 11, "no")]
    assert item_agreement(votes) == {1: 0.6667, 2: 0.5, 4: 1.0}  # item 3 has one vote


def test_the_agreement_filter_finds_the_split_items_once_the_dashboard_job_ran(
    mona, project, items
):
    a, b, c = make_raters(project, 3)
    for r in (a, b, c):
        annotate(items[0], r, "yes")
    for r, v in ((a, "yes"), (b, "no"), (c, "no")):
        annotate(items[1], r, v)
    run = run_now(project, method="majority")
    dashboard_snapshot_compute(project_id=project.pk)
    results = dict(ItemResult.objects.filter(run=run).values_list("item_id", "agreement"))
    assert results == {items[0].pk: 1.0, items[1].pk: 0.6667}
    page = browse(mona, project, agreement_below="0.9")
    assert shown_ids(page) == [items[1].pk]
    assert "0.67" in page.content.decode()
    assert shown_ids(browse(mona, project, agreement_below="1.5")) == [i.pk for i in items]
    assert (
        "agreement_below: must be a number between 0 and 1"
        in browse(mona, project, agreement_below="1.5").content.decode()
    )


def test_answers_show_by_pseudonym_and_the_rater_filter_takes_one(mona, project, items, rater):
    annotate(items[2], rater, "no")
    page = browse(mona, project).content.decode()
    name = rater_pseudonym(project.pk, rater.pk)
    assert name in page and "rita" not in page.split('id="items"')[1]
    assert shown_ids(browse(mona, project, rater=name)) == [items[2].pk]
    assert shown_ids(browse(mona, project, rater=name.lower())) == [items[2].pk]
    assert shown_ids(browse(mona, project, rater="R-AAAAAAAA")) == []


def test_a_pseudonym_is_stable_within_a_project_and_differs_across_projects(project, rater):
    other = Project.objects.create(name="other", kind=project.kind, schema=project.schema)
    assert rater_pseudonym(project.pk, rater.pk) == rater_pseudonym(project.pk, rater.pk)
    assert rater_pseudonym(project.pk, rater.pk) != rater_pseudonym(other.pk, rater.pk)
    assert is_pseudonym(rater_pseudonym(project.pk, rater.pk))


def test_the_tag_filter_finds_imported_tags_exactly(mona, project):
    tagged = ItemFactory(project=project, meta={"tags": ["batch-1", "hard"]})
    ItemFactory(project=project, meta={"tags": ["batch-10"]})
    ItemFactory(project=project, meta={})
    page = browse(mona, project, tag="batch-1")
    assert shown_ids(page) == [tagged.pk]
    assert 'class="tag">hard<' in page.content.decode()
    assert shown_ids(browse(mona, project, tag="none-such")) == []


def test_an_import_with_bad_tags_names_the_line_and_field_and_saves_nothing(project):
    good = {"text": "fine", "meta": {"tags": ["a"]}}
    bad = {"text": "bad", "meta": {"tags": "a,b"}}
    with pytest.raises(schemas.SchemaError) as err:
        schemas.item_validate(project.kind, bad, project.schema)
    assert err.value.field == "meta.tags"
    assert schemas.item_validate(project.kind, good, project.schema)[3] == {"tags": ["a"]}
    with pytest.raises(schemas.SchemaError, match="at most 20"):
        schemas.tags_validate([f"t{i}" for i in range(21)])


def test_bulk_tag_adds_and_removes_a_tag_and_counts_the_unchanged(mona, project, items):
    body = bulk(mona, project, items[:2], "tag", tag=" review ")
    assert "2 items tagged &#x27;review&#x27;." in body
    body = bulk(mona, project, items[:3], "tag", tag="review")
    assert "1 item tagged &#x27;review&#x27;. 2 skipped: already tagged so." in body
    assert shown_ids(browse(mona, project, tag="review")) == [i.pk for i in items[:3]]
    body = bulk(mona, project, items[:1], "untag", tag="review")
    assert shown_ids(browse(mona, project, tag="review")) == [i.pk for i in items[1:3]]
    body = bulk(mona, project, items[:1], "tag", tag="")
    assert "Nothing was changed. tag: must hold non-empty strings only" in body


def test_bulk_promote_keeps_the_explanation_for_raters(mona, project, items):
    a, b = make_raters(project, 2)
    for r in (a, b):
        annotate(items[0], r, "yes")
    run_now(project, method="majority")
    bulk(mona, project, items[:1], "gold", explanation="The text says so in line two.")
    promoted = GoldItem.objects.get(item__meta__promoted_from=items[0].pk)
    assert promoted.explanation == "The text says so in line two."
