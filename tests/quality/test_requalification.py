"""Guidelines that enforce themselves: a new version that changes a section sends the
raters that section concerns to a short re-qualification on its gold, through the queue's
one gate; the others carry on."""

import pytest
from django.urls import reverse

from annotation import queue
from quality.models import GoldItem, GoldSession, Requalification
from quality.services import gold_create, session_answer, session_start
from raters.models import Membership
from raters.services import skill_grant, skill_rules_set
from tasks.markdown import guideline_sections, sections_changed
from tasks.models import Guideline
from tasks.services import guideline_ack, guideline_publish
from tests.factories import ItemFactory, MembershipFactory, UserFactory

V1 = """Intro text that is no section.

## Sentiment
Label the writer's attitude.

## Sarcasm
Sarcasm counts as negative.

```
## not a heading inside code
```
"""
V2 = V1.replace("Sarcasm counts as negative.", "Sarcasm counts as its literal meaning.")


def test_sections_are_the_headings_with_their_text_and_code_fences_hide_headings():
    sections = guideline_sections(V1 + "\n## Sentiment\nagain\n")
    assert [s["slug"] for s in sections] == ["sentiment", "sarcasm", "sentiment-2"]
    assert [s["title"] for s in sections] == ["Sentiment", "Sarcasm", "Sentiment"]
    assert sections_changed(guideline_sections(V1), guideline_sections(V2)) == ["sarcasm"]
    # Re-wrapping a paragraph is no change.
    rewrapped = V1.replace("Label the writer's attitude.", "Label the writer's\nattitude.")
    assert sections_changed(guideline_sections(V1), guideline_sections(rewrapped)) == []


@pytest.fixture
def setup(project, manager, rater):
    """Rita works on German items; Nina does not. The sarcasm gold is German."""
    nina = UserFactory(username="nina")
    MembershipFactory(project=project, user=nina)
    ItemFactory.create_batch(3, project=project)
    skill_rules_set(project=project, rules=[{"tag": "lang:de"}])
    rita_m = Membership.objects.get(project=project, user=rater)
    skill_grant(membership=rita_m, tag="lang:de", level=90, actor=manager, reason="native")
    for n in range(2):
        gold_create(
            project=project,
            data={"text": f"Na toll {n}"},
            pool=GoldItem.Pool.CALIBRATION,
            answer="no",
            meta={"tags": ["lang:de"]},
            sections=["sarcasm"],
        )
    gold_create(
        project=project,
        data={"text": "Great!"},
        pool=GoldItem.Pool.CALIBRATION,
        answer="yes",
        sections=["sentiment"],
    )
    v1 = guideline_publish(project=project, user=manager, body=V1)
    for user in (rater, nina):
        guideline_ack(guideline=v1, user=user)
    return nina


def _next(project, user):
    return queue.next_lease(queue.seat_read(project.pk, user=user))


@pytest.mark.django_db
def test_a_changed_section_sends_only_the_raters_it_concerns_to_requalify(
    project, manager, rater, setup
):
    nina = setup
    v2 = guideline_publish(project=project, user=manager, body=V2)
    assert v2.sections == guideline_sections(V2)
    (requal,) = Requalification.objects.all()
    assert (requal.membership.user, requal.sections) == (rater, ["sarcasm"])
    for user in (rater, nina):
        guideline_ack(guideline=v2, user=user)
    with pytest.raises(queue.Refused) as refused:
        _next(project, rater)
    assert refused.value.reason.code == queue.REQUALIFY
    assert _next(project, nina) is not None  # the sarcasm gold is German: not Nina's work


@pytest.mark.django_db
def test_an_unchanged_section_asks_nobody(project, manager, setup):
    guideline_publish(project=project, user=manager, body=V1 + "\n## New part\nMore.\n")
    assert not Requalification.objects.exists()  # "new part" has no gold


@pytest.mark.django_db
def test_passing_the_requalification_on_the_sections_gold_opens_the_queue_again(
    project, manager, rater, setup
):
    v2 = guideline_publish(project=project, user=manager, body=V2)
    guideline_ack(guideline=v2, user=rater)
    membership = Membership.objects.get(project=project, user=rater)
    session = session_start(membership=membership, kind=GoldSession.Kind.REQUALIFICATION)
    assert session.n_items == 2  # the two sarcasm items, not the sentiment one
    asked = []
    for _ in range(session.n_items):
        session.refresh_from_db()
        from quality.selectors import session_next_gold

        gold = session_next_gold(session)
        asked.append(gold.sections)
        session_answer(session=session, gold=gold, value="no")
    assert asked == [["sarcasm"], ["sarcasm"]]
    session.refresh_from_db()
    assert session.passed is True
    assert Requalification.objects.get().passed_at is not None
    assert _next(project, rater) is not None


@pytest.mark.django_db
def test_failing_it_keeps_the_gate_closed_and_says_so(project, manager, rater, setup):
    v2 = guideline_publish(project=project, user=manager, body=V2)
    guideline_ack(guideline=v2, user=rater)
    membership = Membership.objects.get(project=project, user=rater)
    session = session_start(membership=membership, kind=GoldSession.Kind.REQUALIFICATION)
    from quality.selectors import session_next_gold

    for _ in range(session.n_items):
        session_answer(session=session, gold=session_next_gold(session), value="yes")
    with pytest.raises(queue.Refused):
        _next(project, rater)
    assert "Read them again" in membership.notices.first().message


@pytest.mark.django_db
def test_the_standing_page_and_the_api_say_a_requalification_is_due(
    client, project, manager, rater, setup
):
    v2 = guideline_publish(project=project, user=manager, body=V2)
    guideline_ack(guideline=v2, user=rater)
    client.force_login(rater)
    sent = client.get(reverse("annotation:label", args=[project.pk]))
    assert sent["X-Vox-Gate"] == "requalification"
    page = client.get(sent["Location"]).content.decode()
    assert 'id="requalification"' in page and "sarcasm" in page
    api = client.post(reverse("api:next-item", args=[project.pk]))
    assert api.status_code == 409 and api.json()["reason"] == "requalification"
    assert Guideline.objects.filter(project=project).count() == 2
