"""Guideline health on the project dashboard: per section and version, the gold error rate
and the agreement on the gold that tests it, with the guideline's length."""

import pytest
from django.urls import reverse
from django.utils import timezone

from annotation.models import Annotation
from quality.dashboard_services import dashboard_snapshot_compute
from quality.models import GoldItem, GoldResponse
from quality.scoring import gold_score
from quality.services import gold_create
from raters.models import Membership
from tasks.models import Guideline
from tasks.services import guideline_publish
from tests.conftest import make_raters
from tests.factories import ItemFactory

BODY = "## Sentiment\nThe writer's attitude.\n\n## Sarcasm\nSarcasm counts as negative.\n"


def _answer(gold, user, value, when):
    membership = Membership.objects.get(project=gold.project, user=user)
    response = GoldResponse.objects.create(
        gold=gold,
        membership=membership,
        mode=GoldResponse.Mode.CALIBRATION,
        value=value,
        score=gold_score(gold.project.kind, gold.project.schema, gold.answer, value),
    )
    GoldResponse.objects.filter(pk=response.pk).update(created_at=when)


@pytest.mark.django_db
def test_the_confusing_section_comes_first_with_its_trend_across_versions(project, manager):
    raters = make_raters(project, 4)
    v1 = guideline_publish(project=project, user=manager, body=BODY)
    sarcasm = [
        gold_create(
            project=project,
            data={"text": f"Oh great {n}"},
            pool=GoldItem.Pool.CALIBRATION,
            answer="no",
            sections=["sarcasm"],
        )
        for n in range(2)
    ]
    plain = gold_create(
        project=project,
        data={"text": "Lovely"},
        pool=GoldItem.Pool.CALIBRATION,
        answer="yes",
        sections=["sentiment"],
    )
    t1 = v1.published_at + timezone.timedelta(minutes=1)
    for n, r in enumerate(raters):
        for gold in sarcasm:  # half the raters read sarcasm literally under v1
            _answer(gold, r, "yes" if n % 2 else "no", t1)
        _answer(plain, r, "yes", t1)
    v2 = guideline_publish(
        project=project, user=manager, body=BODY.replace("negative", "negative, always")
    )
    # Published an hour after the first answers, which happened under v1.
    Guideline.objects.filter(pk=v2.pk).update(published_at=t1 + timezone.timedelta(hours=1))
    t2 = t1 + timezone.timedelta(hours=2)
    for r in raters:
        for gold in sarcasm:
            _answer(gold, r, "no", t2)
    health = dashboard_snapshot_compute(project_id=project.pk).data["guideline_health"]
    assert health["version"] == 2 and health["words"] == len(v2.body.split())
    assert health["reading_minutes"] == 1
    first, second = health["sections"]
    # Sarcasm's latest error is 0, sentiment's too; ties keep the title order, but the
    # trend shows what the rewrite did: 50 % wrong under v1, none under v2.
    by_slug = {s["slug"]: s for s in health["sections"]}
    assert [(r["version"], r["n"], r["gold_error"]) for r in by_slug["sarcasm"]["rows"]] == [
        (1, 8, 0.5),
        (2, 8, 0.0),
    ]
    # Split answers under v1; under v2 everyone agrees on one answer, where alpha is
    # undefined (no variation to explain).
    assert by_slug["sarcasm"]["rows"][0]["alpha"] < 0.2
    assert by_slug["sarcasm"]["rows"][1]["alpha"] is None
    assert by_slug["sentiment"]["rows"] == [
        {"version": 1, "n": 4, "gold_error": 0.0, "alpha": by_slug["sentiment"]["rows"][0]["alpha"]}
    ]
    assert {first["slug"], second["slug"]} == {"sarcasm", "sentiment"}


@pytest.mark.django_db
def test_a_section_that_still_confuses_raters_is_listed_first(project, manager, client):
    raters = make_raters(project, 2)
    guideline_publish(project=project, user=manager, body=BODY)
    hard = gold_create(
        project=project,
        data={"text": "Sure, fantastic"},
        pool=GoldItem.Pool.CALIBRATION,
        answer="no",
        sections=["sarcasm"],
    )
    easy = gold_create(
        project=project,
        data={"text": "Nice"},
        pool=GoldItem.Pool.CALIBRATION,
        answer="yes",
        sections=["sentiment"],
    )
    now = timezone.now()
    for r in raters:
        _answer(hard, r, "yes", now)
        _answer(easy, r, "yes", now)
    dashboard_snapshot_compute(project_id=project.pk)
    client.force_login(manager)
    html = client.get(reverse("dashboards:project", args=[project.pk])).content.decode()
    assert 'id="guideline-health"' in html
    assert html.index('data-section="sarcasm"') < html.index('data-section="sentiment"')


@pytest.mark.django_db
def test_agreement_by_guideline_version_sorts_versions_as_numbers(project):
    raters = make_raters(project, 2)
    for version, item in zip((10, 2), ItemFactory.create_batch(2, project=project), strict=True):
        for r in raters:
            Annotation.objects.create(
                project=project,
                item=item,
                rater=r,
                value="yes",
                guideline_version=version,
                idempotency_key=f"k{item.pk}",
            )
    data = dashboard_snapshot_compute(project_id=project.pk).data
    assert [v for v, _, _ in data["alpha_by_version"]] == ["2", "10"]
