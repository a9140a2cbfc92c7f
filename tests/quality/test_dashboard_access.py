"""Annotators never reach the dashboards or their JSON; raters marked reviewers reach the
review queue only."""

import pytest
from django.urls import reverse

from raters.models import Membership

PAGES = [
    ("dashboards:project-raters", False),
    ("dashboards:project", False),
    ("dashboards:api-project", False),
    ("dashboards:api-project-raters", False),
    ("dashboards:api-agreement", False),
    ("dashboards:api-review", False),
    ("dashboards:review", True),
]


def urls(project, items, rater):
    m = Membership.objects.get(project=project, user=rater)
    out = [reverse(name, args=[project.pk]) for name, _ in PAGES]
    out += [
        reverse("dashboards:rater", args=[project.pk, m.pk]),
        reverse("dashboards:api-rater", args=[project.pk, m.pk]),
        reverse("dashboards:review-item", args=[project.pk, items[0].pk]),
    ]
    return out


@pytest.mark.parametrize("who", ["rater", "outsider"])
def test_annotators_and_outsiders_get_404_on_every_dashboard_page_and_json(
    client, project, items, manager, rater, outsider, who
):
    client.force_login(rater if who == "rater" else outsider)
    for url in urls(project, items, rater):
        assert client.get(url).status_code == 404, url


def test_managers_reach_every_dashboard_page_and_json(client, project, items, manager, rater):
    client.force_login(manager)
    for url in urls(project, items, rater):
        assert client.get(url).status_code in (200, 302), url


def test_an_annotator_cannot_post_actions(client, project, items, manager, rater):
    client.force_login(rater)
    m = Membership.objects.get(project=project, user=rater)
    res = client.post(
        reverse("dashboards:raters-bulk"),
        {"membership": [m.pk], "action": "reinstate", "reason": "me"},
    )
    m.refresh_from_db()
    assert res.status_code == 302 and m.transitions.count() == 0
    for action in ("adjudicate", "relabel", "promote"):
        res = client.post(
            reverse("dashboards:review-act", args=[project.pk, items[0].pk]),
            {"action": action, "label": "yes", "explanation": "x"},
        )
        assert res.status_code == 404
    assert client.post(reverse("dashboards:run-now", args=[project.pk])).status_code == 404


def test_the_cross_project_table_lists_only_projects_the_user_manages(
    client, project, manager, rater, outsider
):
    client.force_login(manager)
    names = [r["rater"] for r in client.get(reverse("dashboards:api-raters")).json()["results"]]
    assert names == ["rita"]
    client.force_login(rater)
    assert client.get(reverse("dashboards:api-raters")).json()["results"] == []


def test_a_reviewer_reaches_the_review_queue_but_no_other_dashboard(
    client, project, items, manager, rater
):
    Membership.objects.filter(project=project, user=rater).update(is_reviewer=True)
    client.force_login(rater)
    assert client.get(reverse("dashboards:review", args=[project.pk])).status_code == 200
    # An item with no labels is not in the review queue, so even a reviewer cannot open it;
    # test_dashboard_review covers the queued case.
    item_url = reverse("dashboards:review-item", args=[project.pk, items[0].pk])
    assert client.get(item_url).status_code == 404
    assert client.get(reverse("dashboards:project", args=[project.pk])).status_code == 404
    assert client.get(reverse("dashboards:api-review", args=[project.pk])).status_code == 404


def test_a_suspended_reviewer_loses_the_review_queue(client, project, items, rater):
    Membership.objects.filter(project=project, user=rater).update(
        is_reviewer=True, stage="suspended"
    )
    client.force_login(rater)
    assert client.get(reverse("dashboards:review", args=[project.pk])).status_code == 404


def test_gold_items_are_not_reviewable(client, project, items, manager):
    items[0].is_gold = True
    items[0].save()
    client.force_login(manager)
    url = reverse("dashboards:review-item", args=[project.pk, items[0].pk])
    assert client.get(url).status_code == 404
