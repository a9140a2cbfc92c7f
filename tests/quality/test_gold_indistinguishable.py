"""Nothing a rater can reach moves differently after a gold answer than after a live one.

A rater answers k gold and k live items over HTTP. After each answer every page and API
reply the rater can reach is recorded with its volatile parts blanked (item text, ids,
keys, tokens, times); the replies after gold answers and after live answers must be the
same. The rater-reachable GET URLs come from the URL resolver, so new pages are covered.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from annotation.models import Assignment
from annotation.queue import after_submits
from annotation.services import annotation_submit, assignment_next
from quality.models import GoldSession
from quality.services import gold_create, policy_update
from tests.factories import ItemFactory

K = 4


def _patterns(resolver=None, prefix=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def rater_urls(project) -> list[str]:
    """Every GET URL of the site whose only parameter is a project (or none), as the
    rater would call it; admin, login and files are left out."""
    urls = []
    for route, _ in _patterns():
        if route.startswith(("admin/", "accounts/", "static/", "api/schema", "api/docs")):
            continue
        params = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if params and params != ["project_id"]:
            continue
        path = "/" + re.sub(r"<(?:\w+:)?project_id>", str(project.pk), route)
        if "^" in path or "(" in path:
            continue
        urls.append(path)
    return sorted(set(urls))


def normalise(body: str) -> str:
    body = re.sub(r"(live|check) item \d+", "TEXT", body)
    body = re.sub(r'value="[^"]{20,}"', 'value="TOKEN"', body)
    body = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": "TOKEN"', body)
    body = re.sub(r"\b[0-9a-f]{32}\b", "KEY", body)
    body = re.sub(r"\d{4}-\d\d-\d\d[T ][\d:.]+(Z|[+-]\d\d:\d\d)?", "TIME", body)
    body = re.sub(r'data-item="\d+"', 'data-item="N"', body)
    body = re.sub(r"([a-z]-)\d{4,}", "\\1N", body)  # element ids made from public ids
    body = re.sub(r'"item_id":\s*\d+', '"item_id": N', body)
    body = re.sub(r'name="item_id" value="\d+"', 'name="item_id" value="N"', body)
    # Counts of the rater's own answers (gold and live alike) move by one per answer.
    body = re.sub(r'id="done-(today|total)">\d+', 'id="done-\\1">N', body)
    body = re.sub(r'"(total|today)":\s*\d+', '"\\1": N', body)
    # Dates in words ("Dec 5, 01:23") and relative times.
    body = re.sub(r"[A-Z][a-z]{2} \d{1,2}, \d\d:\d\d", "DATE", body)
    return body


@pytest.mark.django_db
def test_every_rater_reachable_reply_is_the_same_after_a_gold_and_a_live_answer(
    client, project, rater
):
    # Overlap 1: every live answer completes an item, so project counts would move.
    type(project).objects.filter(pk=project.pk).update(overlap=1)
    project.refresh_from_db()
    ItemFactory.create_batch(3 * K, project=project, data={"text": "live item 1"})
    for i in range(2 * K):
        gold_create(
            project=project, data={"text": f"check item {i}"}, pool="injection", answer="yes"
        )
    policy_update(
        project=project, adaptive_gold=False, gold_rate=0.5, gold_rate_floor=0.0,
        suspend_min_gold=1000, warn_below=0.0, suspend_below=0.0, retrain_below=0.0,
    )  # fmt: skip
    client.force_login(rater)
    urls = rater_urls(project)
    assert any("/me/" in u for u in urls) and any("/label/" in u for u in urls)

    def snapshot():
        replies = {}
        for url in urls:
            response = client.get(url)
            replies[url] = (response.status_code, normalise(response.content.decode()))
        return replies

    after = {"gold": [], "live": []}
    while min(len(v) for v in after.values()) < K:
        lease = assignment_next(rater=rater, project=project)
        assert lease is not None, "ran out of items"
        kind = "gold" if lease.item.is_gold else "live"
        annotation_submit(
            rater=rater, item=lease.item, value="yes", idempotency_key=str(lease.item_id)
        )
        Assignment.objects.filter(rater=rater, status="queued").delete()  # pages prefetch
        after_submits(project_id=project.pk)  # the job a worker runs after submits
        if len(after[kind]) < K:
            after[kind].append(snapshot())
    for url in urls:
        gold_replies = {s[url] for s in after["gold"]}
        live_replies = {s[url] for s in after["live"]}
        if gold_replies != live_replies:
            import difflib

            a, b = sorted(gold_replies | live_replies)[:2]
            diff = "\n".join(
                difflib.unified_diff(a[1].splitlines(), b[1].splitlines(), lineterm="")
            )
            raise AssertionError(f"{url} differs after gold and live answers:\n{diff}")


@pytest.mark.django_db
def test_standing_shows_a_band_and_no_count_of_check_answers(client, project, rater):
    from raters.models import Membership

    Membership.objects.filter(user=rater).update(gold_n=40, gold_score_sum=38.0)
    client.force_login(rater)
    mine = client.get(reverse("api:my-standing", args=[project.pk])).json()
    assert mine["accuracy"]["band"] == "on track"
    assert "gold_accuracy" not in mine and "40" not in str(mine["accuracy"])
    page = client.get(reverse("raters:standing", args=[project.pk])).content.decode()
    assert 'data-band="on track"' in page and "40 answer" not in page and "95%" not in page


@pytest.mark.django_db
def test_a_session_answer_to_any_other_id_gets_one_answer_gold_or_unknown(client, project, rater):
    from quality.services import session_start
    from raters.models import Membership, Stage

    for pool in ("training", "injection"):
        gold_create(project=project, data={"text": pool}, pool=pool, answer="yes")
    membership = Membership.objects.get(user=rater)
    Membership.objects.filter(pk=membership.pk).update(stage=Stage.TRAINING)
    membership.refresh_from_db()
    session_start(membership=membership, kind=GoldSession.Kind.TRAINING)
    injection = project.gold_items.get(pool="injection")
    client.force_login(rater)
    url = reverse("api:session-answer", args=[project.pk, "training"])

    def answer(gold_id):
        r = client.post(url, {"gold_id": gold_id, "value": "yes"}, content_type="application/json")
        return r.status_code, r.json()

    assert answer(injection.pk) == answer(10**9) == answer(injection.pk + 10**6)
    assert answer(injection.pk)[0] == 409


@pytest.mark.django_db
def test_promoted_gold_never_reaches_a_rater_who_was_served_the_original(
    settings, project, rater, manager
):
    from quality.services import gold_promote

    settings.VOX_GOLD_POLICY = "tests.annotation.test_gold_hook.every_slot_is_gold"
    original = ItemFactory(project=project, data={"text": "live item 1"})
    lease = assignment_next(rater=rater, project=project)
    assert lease.item == original
    annotation_submit(rater=rater, item=original, value="yes", idempotency_key="o")
    copy = gold_promote(item=original, answer="yes", explanation="", user=manager)
    ItemFactory(project=project, data={"text": "live item 2"})
    served = assignment_next(rater=rater, project=project)
    assert served.item != copy.item and not served.item.is_gold


@pytest.mark.django_db
def test_gold_with_the_content_of_an_item_the_rater_was_served_never_reaches_them(
    settings, project, rater, manager
):
    settings.VOX_GOLD_POLICY = "tests.annotation.test_gold_hook.every_slot_is_gold"
    # Key order differs: the content, not its spelling, is what the rater recognises.
    seen = ItemFactory(project=project, data={"text": "live item 1", "lang": "en"})
    assert assignment_next(rater=rater, project=project).item == seen
    annotation_submit(rater=rater, item=seen, value="yes", idempotency_key="s")
    same = gold_create(
        project=project, data={"lang": "en", "text": "live item 1"}, pool="injection",
        answer="yes",
    )  # fmt: skip
    assert same.item.content_hash == seen.content_hash
    other = gold_create(project=project, data={"text": "a check"}, pool="injection", answer="no")
    ItemFactory(project=project, data={"text": "live item 2"})
    assert assignment_next(rater=rater, project=project).item == other.item
