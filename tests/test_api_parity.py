"""Every manager and reviewer action of the UI has an API endpoint that calls the same
service, and answers a bad request with 400 naming the field."""

import inspect

from django.urls import URLPattern, get_resolver, reverse

from annotation.models import Annotation
from quality.models import Adjudication, GoldItem, RelabelRequest
from raters.models import Membership, Stage
from raters.pseudonyms import rater_pseudonym
from tasks.models import Item
from tests.factories import UserFactory
from tests.quality import test_dashboard_review

# Each POST page of a manager or reviewer, and the API endpoint that does the same.
UI_TO_API = {
    "tasks:project-new": "api:project-list",
    "tasks:project-settings": "api:project-detail",
    "tasks:member-add": "api:member-add",
    "tasks:members-add": "api:members-add",
    "tasks:import-new": "api:import-create",
    "tasks:import-preview": "api:import-commit",
    "tasks:export-new": "api:export-create",
    "tasks:guideline-edit": "api:guidelines",
    "tasks:items-bulk": "api:item-bulk",
    "tasks:item-edit": "api:item-detail",
    "tasks:item-delete": "api:item-detail",
    "quality:page": "api:quality-policy",
    "quality:gold-new": "api:gold-list",
    "quality:gold-import": "api:gold-import",
    "quality:rater-act": "api:rater-action",
    "raters:skills": "api:skills",
    "raters:skill-grant": "api:skill-grant",
    "dashboards:raters-bulk": "dashboards:api-raters-act",
    "dashboards:refresh": "dashboards:api-figures-refresh",
    "dashboards:run-now": "api:aggregation-run-list",
    "dashboards:review-act": "dashboards:api-review-item",
    "modelruns:list": "modelruns:api-list",
    "modelruns:noisy-cv": "modelruns:api-noisy-cv",
    "modelruns:pin": "modelruns:api-pin",
    # The suspects page sends items back through the item browser's bulk action "relabel".
    "modelruns:suspects-relabel": "api:item-bulk",
}
# POST pages that are not a manager's or reviewer's action on a project.
NOT_MANAGEMENT = {
    "annotation:label-submit",
    "annotation:label-skip",
    "annotation:label-undo",
    "raters:practice-start",
    "raters:practice",
    "raters:api-token",
    "raters:api-token-revoke",
    "raters:people",
    "raters:standing",
    "tasks:guideline-read",
    "tasks:guideline-preview",
    "tasks:schema-fields",
    "tasks:schema-row",
}


def _site_post_views():
    """(namespaced name, view) of every page that takes a POST, outside /api/ and admin."""
    found = []

    def walk(resolver, namespace, prefix):
        for p in resolver.url_patterns:
            if isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if route.startswith(("api/", "admin/", "accounts/")) or not p.name:
                    continue
                # The source of a decorated function includes its decorators.
                source = inspect.getsource(inspect.unwrap(p.callback))
                if "@require_POST" in source or "request.POST" in source:
                    found.append((f"{namespace}:{p.name}" if namespace else p.name, p.callback))
            else:
                ns = ":".join(x for x in (namespace, p.namespace) if x)
                walk(p, ns, prefix + str(p.pattern))

    walk(get_resolver(), "", "")
    return found


# The review page's crowd: a manager and 30 items labelled by careful and careless raters.
boss, crowd = test_dashboard_review.boss, test_dashboard_review.crowd


def test_every_post_page_of_a_manager_or_reviewer_has_an_api_endpoint():
    names = {name for name, _ in _site_post_views()}
    missing = names - set(UI_TO_API) - NOT_MANAGEMENT
    assert not missing, f"UI actions without an API endpoint listed here: {sorted(missing)}"
    assert not names - set(UI_TO_API) - NOT_MANAGEMENT
    for api_name in UI_TO_API.values():
        assert _resolves(api_name) or api_name in ("api:rater-action",), api_name


def _resolves(name) -> bool:
    from django.urls import NoReverseMatch

    for kwargs in (
        {},
        {"project_id": 1},
        {"project_id": 1, "item_id": 1},
        {"project_id": 1, "membership_id": 1},
        {"import_id": 1},
        {"project_id": 1, "run_id": 1},
    ):
        try:
            reverse(name, kwargs=kwargs)
            return True
        except NoReverseMatch:
            continue
    return False


def test_the_item_browsers_bulk_actions_run_over_the_api_all_or_nothing(client, boss, crowd):
    project, users = crowd
    client.force_login(boss)
    url = reverse("api:item-bulk", args=[project.pk])
    ids = list(project.items.order_by("pk").values_list("pk", flat=True)[:3])
    ok = client.post(
        url, {"action": "priority", "item_ids": ids, "priority": 7}, "application/json"
    )
    assert ok.status_code == 200 and ok.json()["done"] == 3
    assert set(Item.objects.filter(pk__in=ids).values_list("priority", flat=True)) == {7}
    tag = client.post(url, {"action": "tag", "item_ids": ids, "tag": "hard"}, "application/json")
    assert tag.json()["done"] == 3
    assert Item.objects.get(pk=ids[0]).meta["tags"] == ["hard"]
    # The items have answers: delete skips them and says why.
    gone = client.post(url, {"action": "delete", "item_ids": ids}, "application/json").json()
    assert (gone["done"], gone["skipped"]) == (0, 3) and "answers" in gone["message"]
    no_priority = client.post(url, {"action": "priority", "item_ids": ids}, "application/json")
    assert no_priority.status_code == 400 and "priority" in no_priority.json()
    bad_action = client.post(url, {"action": "burn", "item_ids": ids}, "application/json")
    assert bad_action.status_code == 400 and "action" in bad_action.json()
    client.force_login(users["careful0"])  # an annotator
    assert (
        client.post(
            url, {"action": "tag", "item_ids": ids, "tag": "x"}, "application/json"
        ).status_code
        == 404
    )


def test_an_item_is_read_edited_and_deleted_over_the_api_until_it_has_answers(
    client, manager, project, items, rater
):
    client.force_login(manager)
    fresh, answered = items[0], items[1]
    Annotation.objects.create(project=project, item=answered, rater=rater, value="yes")
    url = reverse("api:item-detail", args=[project.pk, fresh.pk])
    assert client.get(url).json()["data"] == fresh.data
    edited = client.patch(url, {"record": {"text": "new text", "priority": 3}}, "application/json")
    assert edited.status_code == 200 and edited.json()["data"] == {"text": "new text"}
    assert edited.json()["priority"] == 3
    bad = client.patch(url, {"record": {"text": "x", "priority": "high"}}, "application/json")
    assert bad.status_code == 400 and "priority" in bad.json()
    refused = client.patch(
        reverse("api:item-detail", args=[project.pk, answered.pk]),
        {"record": {"text": "changed"}},
        "application/json",
    )
    assert refused.status_code == 409
    assert (
        client.delete(reverse("api:item-detail", args=[project.pk, answered.pk])).status_code == 409
    )
    assert client.delete(url).status_code == 204 and not Item.objects.filter(pk=fresh.pk).exists()
    client.force_login(rater)
    assert client.get(reverse("api:item-detail", args=[project.pk, answered.pk])).status_code == 404


def test_many_members_and_reviewers_are_added_over_the_api_or_none(client, manager, project):
    client.force_login(manager)
    UserFactory(username="ann")
    UserFactory(username="rev")
    url = reverse("api:members-add", args=[project.pk])
    bad = client.post(
        url, {"usernames": ["ann", "nobody"], "role": "annotator"}, "application/json"
    )
    assert bad.status_code == 400 and "line 2" in bad.json()
    assert not Membership.objects.filter(project=project, user__username="ann").exists()
    ok = client.post(
        url, {"usernames": ["ann", "rev,manager"], "role": "annotator"}, "application/json"
    )
    assert ok.status_code == 201
    assert {(m["username"], m["role"]) for m in ok.json()} == {
        ("ann", "annotator"),
        ("rev", "manager"),
    }
    # The reviewer role is a rater action with a reason the rater reads.
    ann = Membership.objects.get(project=project, user__username="ann")
    make = client.post(
        reverse("api:rater-action", args=[project.pk, ann.pk]),
        {"action": "reviewer", "reason": "steady on gold"},
        "application/json",
    )
    assert make.status_code == 200
    ann.refresh_from_db()
    assert ann.is_reviewer and "steady on gold" in ann.notices.get().message


def test_a_reviewer_reads_and_acts_on_the_review_queue_over_the_api(client, boss, crowd):
    project, users = crowd
    client.force_login(boss)
    queue = client.get(reverse("dashboards:api-review", args=[project.pk])).json()["results"]
    item_id = queue[0]["item_id"]
    url = reverse("dashboards:api-review-item", args=[project.pk, item_id])
    detail = client.get(url).json()
    raters = {a["rater"] for a in detail["answers"]}
    assert rater_pseudonym(project.pk, users["careful0"].pk) in raters and "careful0" not in raters
    assert "careful0" in {a["rater"] for a in client.get(url, {"names": "1"}).json()["answers"]}
    bad = client.post(url, {"action": "adjudicate", "label": "maybe"}, "application/json")
    assert bad.status_code == 400 and "value" in bad.json() and not Adjudication.objects.exists()
    relabel = client.post(url, {"action": "relabel", "extra_labels": 3}, "application/json")
    assert relabel.status_code == 200
    assert RelabelRequest.objects.get(item_id=item_id).extra_labels == 3
    done = client.post(
        url, {"action": "adjudicate", "label": "neutral", "note": "clear"}, "application/json"
    )
    assert done.status_code == 200 and Adjudication.objects.get(item_id=item_id).label == "neutral"
    # A reviewer who does not manage the project may not make gold: 404, as on the page.
    reviewer = users["careful1"]
    Membership.objects.filter(project=project, user=reviewer).update(is_reviewer=True)
    client.force_login(reviewer)
    other = client.get(reverse("dashboards:api-review", args=[project.pk]))
    assert other.status_code in (200, 404)
    second = queue[1]["item_id"]
    n_gold = GoldItem.objects.count()
    promote = client.post(
        reverse("dashboards:api-review-item", args=[project.pk, second]),
        {"action": "promote", "label": "neutral", "explanation": "because"},
        "application/json",
    )
    assert promote.status_code == 404 and GoldItem.objects.count() == n_gold


def test_rater_actions_and_a_figures_refresh_run_over_the_api(client, boss, crowd):
    project, users = crowd
    client.force_login(boss)
    url = reverse("dashboards:api-raters-act")
    ids = list(
        Membership.objects.filter(
            project=project, user__username__in=["careful0", "careful1"]
        ).values_list("pk", flat=True)
    )
    no_reason = client.post(
        url, {"action": "suspend", "reason": "", "memberships": ids}, "application/json"
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    ok = client.post(
        url, {"action": "suspend", "reason": "gold slipped", "memberships": ids}, "application/json"
    )
    assert ok.status_code == 200 and sorted(ok.json()["done"]) == ["careful0", "careful1"]
    assert set(Membership.objects.filter(pk__in=ids).values_list("stage", flat=True)) == {
        Stage.SUSPENDED
    }
    refresh = client.post(reverse("dashboards:api-figures-refresh", args=[project.pk]))
    assert refresh.status_code == 202
    overview = client.get(reverse("dashboards:api-project", args=[project.pk])).json()
    assert overview["figures"]
