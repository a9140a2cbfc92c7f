"""Each class of bad input has one check that every door goes through, and answers with
a 400 (or 404) that names the field: NUL characters, deep JSON, ids past bigint, and
pagination past what the database holds. tests/test_fuzz.py throws the whole corpus at
every URL; these pin down the answers."""

import pytest
from django.urls import reverse

from config import jsonbody
from config.converters import id_or_none
from tests.factories import ItemFactory

DEEP = "[" * 50_000 + "]" * 50_000


@pytest.mark.django_db
def test_a_nul_in_the_query_or_a_form_is_a_400_naming_the_field(client, project, manager):
    client.force_login(manager)
    response = client.get(reverse("api:item-list", args=[project.pk]), {"q": "a\x00"})
    assert response.status_code == 400 and response.json()["field"] == "q"
    page = client.get(reverse("dashboards:project-raters", args=[project.pk]), {"q": "\x00"})
    assert page.status_code == 400 and b"q contains a NUL" in page.content
    form = client.post(reverse("tasks:project-settings", args=[project.pk]), {"name": "a\x00"})
    assert form.status_code == 400 and b"name contains a NUL" in form.content
    project.refresh_from_db()
    assert "\x00" not in project.name


@pytest.mark.django_db
def test_a_json_body_with_a_nul_or_nested_50000_deep_is_a_400_naming_the_field(
    client, project, manager
):
    client.force_login(manager)
    url = reverse("api:project-detail", args=[project.pk])
    response = client.patch(url, '{"name": "x\\u0000"}', content_type="application/json")
    assert response.status_code == 400 and "name contains a NUL" in response.json()["name"][0]
    response = client.patch(url, DEEP, content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]
    gold = reverse("api:gold-list", args=[project.pk])
    body = '{"data": {"text": "t", "x": ' + "[" * 70 + "]" * 70 + '}, "answer": "yes"}'
    response = client.post(gold, body, content_type="application/json")
    ((field, (message,)),) = response.json().items()
    assert response.status_code == 400 and field.startswith("data.x.0.0")
    assert "nests deeper than 64" in message


def test_the_json_check_names_the_path_and_walks_without_recursion():
    value = {"a": [{"b": "ok"}, {"c": "x\x00"}]}
    with pytest.raises(jsonbody.BadJson) as caught:
        jsonbody.check(value)
    assert caught.value.field == "a.1.c"
    deep = []
    for _ in range(100_000):  # far past Python's recursion limit
        deep = [deep]
    with pytest.raises(jsonbody.BadJson, match="nests deeper than 64"):
        jsonbody.check(deep)
    jsonbody.check({"fine": [[["at", "depth"]]]})


@pytest.mark.django_db
def test_ids_past_bigint_in_any_url_are_not_found(client, project, manager):
    client.force_login(manager)
    huge = "9" * 19
    for path in (f"/api/projects/{huge}/", f"/projects/{huge}/", f"/api/imports/{huge}/"):
        assert client.get(path).status_code == 404, path
    assert id_or_none("9" * 18) == 10**18 - 1
    assert [id_or_none(v) for v in ("9" * 19, "abc", "1.5", "-1", "", " 7 ")] == [
        None, None, None, None, None, 7,
    ]  # fmt: skip


@pytest.mark.django_db
def test_limit_and_offset_past_what_the_database_holds_give_a_short_page(client, project, manager):
    ItemFactory.create_batch(3, project=project)
    client.force_login(manager)
    url = reverse("api:item-list", args=[project.pk])
    page = client.get(url, {"limit": "9" * 40}).json()
    assert len(page["results"]) == 3 and "limit=1000" in (page.get("next") or "limit=1000")
    assert client.get(url, {"offset": "9" * 40}).json()["results"] == []
    assert client.get(url, {"limit": "abc", "offset": "-5"}).status_code == 200


@pytest.mark.django_db
def test_non_numeric_ids_in_forms_are_a_400_naming_the_field(client, project, manager, rater):
    from quality.services import gold_create, session_start
    from raters.models import Membership

    client.force_login(manager)
    bulk = reverse("dashboards:raters-bulk")
    for bad in ("abc", "1.5", "9" * 19):
        form = {"membership": [bad], "action": "warn", "reason": "r"}
        response = client.post(bulk, form)
        assert response.status_code == 400 and b"membership: must be" in response.content
    gold_create(project=project, data={"text": "t"}, pool="training", answer="yes")
    membership = Membership.objects.get(project=project, user=rater)
    session_start(membership=membership, kind="training")
    client.force_login(rater)
    practice = reverse("raters:practice", args=[project.pk, "training"])
    for bad in ("abc", "1.5"):
        assert client.post(practice, {"gold_id": bad, "value": "yes"}).status_code == 400
    assert client.post(practice, {"gold_id": "12345", "value": "yes"}).status_code == 200


def test_a_gold_item_whose_data_is_not_an_object_is_a_400_naming_data(client, project, manager):
    client.force_login(manager)
    for data in (7, "text", [1, 2], None):
        response = client.post(
            reverse("api:gold-list", args=[project.pk]),
            {"pool": "training", "data": data, "answer": "yes"},
            content_type="application/json",
        )
        assert response.status_code == 400, data
        assert "data" in response.json()


def test_a_bulk_rater_action_on_ids_past_bigint_is_a_400_not_a_crash(client, project, manager):
    client.force_login(manager)
    response = client.post(
        reverse("dashboards:api-raters-act"),
        {"action": "warn", "reason": "r", "memberships": [2**63, 5]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "memberships" in response.json()
