"""The quality API: managers run rules, gold and raters; raters see only their own standing."""

import io

import pytest
from rest_framework.test import APIClient

from quality.models import GoldItem
from quality.services import gold_create
from raters.models import Membership, Stage
from tests.conftest import make_raters


@pytest.fixture
def api():
    def login(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return login


def test_a_manager_sets_rules_and_adds_gold_through_the_api(api, project, manager):
    client = api(manager)
    base = f"/api/projects/{project.pk}"
    assert (
        client.patch(
            f"{base}/quality/policy/", {"gold_rate": 0.1, "warn_below": 0.8}, format="json"
        ).data["gold_rate"]
        == 0.1
    )
    bad = client.patch(f"{base}/quality/policy/", {"suspend_below": 0.9}, format="json")
    assert bad.status_code == 400 and "suspend_below" in bad.data
    made = client.post(
        f"{base}/gold/",
        {"pool": "injection", "data": {"text": "x"}, "answer": "yes", "explanation": "why"},
        format="json",
    )
    assert made.status_code == 201 and made.data["answer"] == {"accept": ["yes"]}
    wrong = client.post(
        f"{base}/gold/",
        {"pool": "training", "data": {"text": "x"}, "answer": "maybe"},
        format="json",
    )
    assert wrong.status_code == 400 and "answer.accept[0]" in wrong.data
    upload = io.BytesIO(b'{"text": "a", "answer": "no"}\n{"text": "b"}\n')
    upload.name = "gold.jsonl"
    imported = client.post(
        f"{base}/gold/import/", {"pool": "training", "file": upload}, format="multipart"
    )
    assert imported.status_code == 400
    assert (
        imported.data["errors"][0]["line"] == 2 and imported.data["errors"][0]["field"] == "answer"
    )
    assert GoldItem.objects.count() == 1


def test_a_manager_promotes_a_live_item_and_acts_on_raters(api, project, manager, rater, items):
    client = api(manager)
    base = f"/api/projects/{project.pk}"
    promoted = client.post(
        f"{base}/gold/promote/",
        {"item_id": items[0].pk, "answer": "no", "explanation": "confident aggregate"},
        format="json",
    )
    assert promoted.status_code == 201 and promoted.data["item"] != items[0].pk
    (row,) = client.get(f"{base}/raters/").data
    assert row["username"] == "rita" and row["stage"] == "qualified"
    acted = client.post(
        f"{base}/raters/{row['membership_id']}/actions/",
        {"action": "suspend", "reason": "spot check failed"},
        format="json",
    )
    assert acted.data["stage"] == "suspended"
    detail = client.get(f"{base}/raters/{row['membership_id']}/").data
    assert detail["transitions"][0]["actor"] == "mona"


def test_raters_reach_only_their_own_standing_and_no_manager_endpoint(api, project, rater, items):
    other = make_raters(project, 1, prefix="peer")[0]
    Membership.objects.filter(user=other).update(stage=Stage.WARNED)
    client = api(rater)
    base = f"/api/projects/{project.pk}"
    mine = client.get(f"{base}/me/").data
    assert mine["stage"] == "qualified" and "warned" not in str(mine)
    for url in ("quality/policy/", "gold/", "raters/", f"raters/{other.memberships.get().pk}/"):
        assert client.get(f"{base}/{url}").status_code == 404, url


def test_a_rater_trains_through_the_api_with_feedback(api, project, rater):
    gold_create(
        project=project, data={"text": "t"}, pool="training", answer="yes", explanation="because"
    )
    client = api(rater)
    base = f"/api/projects/{project.pk}"
    session = client.post(f"{base}/sessions/", {"kind": "training"}, format="json").data
    reply = client.post(
        f"{base}/sessions/training/answers/",
        {"gold_id": session["next"]["gold_id"], "value": "no"},
        format="json",
    ).data
    assert reply["feedback"]["correct"] is False and reply["feedback"]["explanation"] == "because"
    assert reply["finished"]["score"] == 0.0
