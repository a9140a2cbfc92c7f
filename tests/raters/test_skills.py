"""Routing by skill: tagged items reach only the raters who hold the project's skill for
the tag, through the one claim, for gold as for live items."""

import pytest

from annotation import queue
from annotation.models import Assignment
from quality.models import GoldItem, QualityPolicy
from quality.services import gold_answers_score, gold_create, session_answer, session_start
from raters.models import Membership, Skill, SkillChange, SkillRule, Stage
from raters.services import skill_grant, skill_rules_set
from raters.skills import blocked_tags, level_for
from tasks.models import Item
from tasks.schema import SchemaError
from tests.factories import ItemFactory, MembershipFactory, UserFactory


def _membership(project, user) -> Membership:
    return Membership.objects.get(project=project, user=user)


def _served(project, user, n=50) -> list[Item]:
    """Everything the queue serves this rater, answering each item as it comes."""
    served = []
    for _ in range(n):
        seat = queue.seat_read(project.pk, user=user)
        try:
            lease = queue.next_lease(seat)
        except queue.Refused:
            break
        if lease is None:
            break
        served.append(lease.item)
        seat = queue.seat_read(project.pk, user=user, item=lease.item.public_id)
        queue.submit(seat, value="yes", idempotency_key=f"k{lease.item.pk}")
    return served


@pytest.fixture
def tagged(project):
    """Three items that need German, two that need nothing."""
    german = [ItemFactory(project=project, meta={"tags": ["lang:de"]}) for _ in range(3)]
    plain = ItemFactory.create_batch(2, project=project)
    skill_rules_set(project=project, rules=[{"tag": "lang:de", "min_level": 70}])
    return german, plain


@pytest.mark.django_db
def test_a_rater_without_the_skill_is_served_only_the_items_that_need_none(project, rater, tagged):
    german, plain = tagged
    served = _served(project, rater)
    assert {i.pk for i in served} == {i.pk for i in plain}


@pytest.mark.django_db
def test_a_granted_skill_opens_the_tagged_items_and_is_audited(project, rater, manager, tagged):
    german, plain = tagged
    membership = _membership(project, rater)
    skill_grant(membership=membership, tag="lang:de", level=80, actor=manager, reason="native")
    served = _served(project, rater)
    assert {i.pk for i in served} == {i.pk for i in german + plain}
    change = SkillChange.objects.get(membership=membership)
    assert (change.source, change.from_level, change.to_level, change.actor) == (
        "granted",
        None,
        80,
        manager,
    )


@pytest.mark.django_db
def test_a_grant_below_the_rules_level_keeps_the_items_closed(project, rater, manager, tagged):
    german, plain = tagged
    membership = _membership(project, rater)
    skill_grant(membership=membership, tag="lang:de", level=60, actor=manager, reason="some")
    assert {i.pk for i in _served(project, rater)} == {i.pk for i in plain}


@pytest.mark.django_db
def test_taking_a_grant_back_closes_the_items_again(project, rater, manager, tagged):
    membership = _membership(project, rater)
    skill_grant(membership=membership, tag="lang:de", level=90, actor=manager, reason="yes")
    skill_grant(membership=membership, tag="lang:de", level=None, actor=manager, reason="no")
    seat = queue.seat_read(project.pk, user=rater)
    assert seat.blocked_tags == ["lang:de"]
    assert list(
        SkillChange.objects.filter(membership=membership).values_list("source", flat=True)
    ) == ["revoked", "granted"]


@pytest.mark.django_db
def test_with_the_wait_fallback_a_rater_without_any_skill_is_gated(project, rater, tagged):
    skill_rules_set(project=project, rules=[{"tag": "lang:de"}], fallback="wait")
    seat = queue.seat_read(project.pk, user=rater)
    with pytest.raises(queue.Refused) as refused:
        queue.next_lease(seat)
    assert refused.value.reason.code == queue.SKILL


@pytest.mark.django_db
def test_silent_gold_is_drawn_only_from_tags_the_rater_works_on(project, rater, settings):
    settings.VOX_GOLD_POLICY = "tests.annotation.test_gold_hook.every_slot_is_gold"
    ItemFactory.create_batch(3, project=project)
    skill_rules_set(project=project, rules=[{"tag": "lang:de"}])
    german_gold = gold_create(
        project=project,
        data={"text": "Ist das richtig?"},
        pool=GoldItem.Pool.INJECTION,
        answer="yes",
        meta={"tags": ["lang:de"]},
    )
    plain_gold = gold_create(
        project=project, data={"text": "a check"}, pool=GoldItem.Pool.INJECTION, answer="yes"
    )
    served = {i.pk for i in _served(project, rater)}
    assert plain_gold.item_id in served
    assert german_gold.item_id not in served


@pytest.mark.django_db
def test_gold_answers_on_tagged_items_earn_the_skill_after_the_rules_minimum(project, rater):
    membership = _membership(project, rater)
    skill_rules_set(project=project, rules=[{"tag": "lang:de", "min_level": 70, "min_gold": 3}])
    golds = [
        gold_create(
            project=project,
            data={"text": f"Frage {n}"},
            pool=GoldItem.Pool.TRAINING,
            answer="yes",
            meta={"tags": ["lang:de"]},
        )
        for n in range(4)
    ]
    QualityPolicy.objects.update_or_create(project=project, defaults={"training_items_required": 4})
    Membership.objects.filter(pk=membership.pk).update(stage=Stage.TRAINING)
    membership.refresh_from_db()
    session = session_start(membership=membership, kind="training")
    levels = []
    for gold in golds:
        session.refresh_from_db()
        session_answer(session=session, gold=gold, value="yes")
        skill = Skill.objects.get(membership=membership, tag="lang:de")
        levels.append(level_for(skill, SkillRule.objects.get(project=project)))
    # Nothing counts before the third answer; then the posterior mean, rising.
    assert levels[:2] == [None, None]
    assert 70 <= levels[2] < levels[3] <= 100
    change = SkillChange.objects.get(membership=membership)
    assert (change.source, change.from_level, change.to_level) == ("earned", None, levels[2])


@pytest.mark.django_db
def test_silent_gold_counts_towards_the_skill_of_its_tags(project, rater, settings):
    settings.VOX_GOLD_POLICY = "tests.annotation.test_gold_hook.every_slot_is_gold"
    ItemFactory.create_batch(2, project=project)
    gold_create(
        project=project,
        data={"text": "a tagged check"},
        pool=GoldItem.Pool.INJECTION,
        answer="no",
        meta={"tags": ["domain:law"]},
    )
    _served(project, rater)
    gold_answers_score(project_id=project.pk)
    skill = Skill.objects.get(membership__user=rater, tag="domain:law")
    assert (skill.gold_n, skill.gold_score_sum) == (1, 0.0)  # answered "yes"
    assert skill.earned_level < 50


@pytest.mark.django_db
def test_the_seat_statement_and_level_for_agree_on_every_case(project):
    """The level rule is written in SQL (the seat) and in Python (pages): same answers."""
    skill_rules_set(
        project=project,
        rules=[{"tag": t, "min_level": 70, "min_gold": 3} for t in ("a", "b", "c", "d", "e")],
    )
    user = UserFactory(username="case")
    membership = MembershipFactory(project=project, user=user)
    cases = {
        "a": {"granted_level": 70},  # granted at the bar: passes
        "b": {"granted_level": 10, "earned_level": 99, "gold_n": 9},  # the grant decides
        "c": {"earned_level": 90, "gold_n": 2},  # too few answers yet
        "d": {"earned_level": 90, "gold_n": 3},  # earned
    }  # "e": no skill at all
    for tag, fields in cases.items():
        Skill.objects.create(membership=membership, tag=tag, **fields)
    seat = queue.seat_read(project.pk, user=user)
    rules = {r.tag: r for r in SkillRule.objects.filter(project=project)}
    skills = {s.tag: s for s in Skill.objects.filter(membership=membership)}
    python_blocked = [
        t for t in sorted(rules) if (level_for(skills.get(t), rules[t]) or -1) < rules[t].min_level
    ]
    assert seat.blocked_tags == python_blocked == blocked_tags(membership) == ["b", "c", "e"]


@pytest.mark.django_db
def test_bad_rules_are_refused_whole_naming_the_rule_and_field(project):
    skill_rules_set(project=project, rules=[{"tag": "keep"}])
    with pytest.raises(SchemaError) as bad:
        skill_rules_set(project=project, rules=[{"tag": "ok"}, {"tag": "x", "min_level": 101}])
    assert bad.value.field == "rules[1].min_level"
    with pytest.raises(SchemaError) as twice:
        skill_rules_set(project=project, rules=[{"tag": "x"}, {"tag": "x"}])
    assert twice.value.field == "rules[1].tag"
    assert list(SkillRule.objects.filter(project=project).values_list("tag", flat=True)) == ["keep"]


@pytest.mark.django_db
def test_a_project_without_rules_claims_as_before(project, rater, items):
    assert {i.pk for i in _served(project, rater)} == {i.pk for i in items}
    assert Assignment.objects.filter(rater=rater).count() == len(items)


@pytest.mark.django_db
def test_the_skills_api_sets_rules_grants_and_reads_levels_with_field_errors(
    client, project, manager, rater
):
    from django.urls import reverse

    client.force_login(manager)
    url = reverse("api:skills", args=[project.pk])
    put = client.put(
        url, {"rules": [{"tag": "lang:de", "min_level": 80}]}, content_type="application/json"
    )
    assert put.status_code == 200, put.content
    assert put.json()["rules"] == [{"tag": "lang:de", "min_level": 80, "min_gold": 5}]
    bad = client.put(url, {"rules": [{"tag": "a"}, {"tag": "a"}]}, content_type="application/json")
    assert bad.status_code == 400 and "rules[1].tag" in bad.json()
    membership = _membership(project, rater)
    grant_url = reverse("api:skill-grant", args=[project.pk, membership.pk])
    no_reason = client.post(grant_url, {"tag": "lang:de", "level": 90}, "application/json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    granted = client.post(
        grant_url, {"tag": "lang:de", "level": 90, "reason": "native"}, "application/json"
    )
    assert granted.status_code == 200
    (cell,) = granted.json()["skills"]
    assert (cell["tag"], cell["level"], cell["passes"]) == ("lang:de", 90, True)
    listed = client.get(url).json()
    assert listed["fallback"] == "untagged"
    assert listed["raters"][0]["skills"][0]["granted_level"] == 90
    client.force_login(rater)
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_the_skills_page_saves_a_rules_table_and_grants_from_a_form(
    client, project, manager, rater
):
    from django.urls import reverse

    client.force_login(manager)
    page = reverse("raters:skills", args=[project.pk])
    saved = client.post(
        page,
        {"rows": 0, "tag-0": "domain:law", "min_level-0": "75", "min_gold-0": "4"},
    )
    assert saved.status_code == 302
    rule = SkillRule.objects.get(project=project)
    assert (rule.tag, rule.min_level, rule.min_gold) == ("domain:law", 75, 4)
    membership = _membership(project, rater)
    client.post(
        reverse("raters:skill-grant", args=[project.pk]),
        {"membership": membership.pk, "tag": "domain:law", "level": "80", "reason": "a lawyer"},
    )
    html = client.get(page).content.decode()
    assert 'data-tag="domain:law"' in html and "<strong>80</strong>" in html
    assert "a lawyer" in html
    # Removing the rule's row removes the rule.
    client.post(page, {"rows": 1, "tag-0": "domain:law", "remove-0": "on"})
    assert not SkillRule.objects.filter(project=project).exists()
    bad = client.post(page, {"rows": 0, "tag-0": "x", "min_level-0": "900"}, follow=True)
    assert "rules[0].min_level" in bad.content.decode()
    # A row count that is not ours (text, or absurdly large) is a 4xx-free no-op, never a 500.
    for rows in ("abc", "99999999999999999999", "-1"):
        assert client.post(page, {"rows": rows, "tag-0": "y"}).status_code == 302


@pytest.mark.django_db
def test_a_waiting_rater_is_sent_to_their_standing_page_which_says_why(
    client, project, rater, tagged
):
    from django.urls import reverse

    skill_rules_set(project=project, rules=[{"tag": "lang:de"}], fallback="wait")
    client.force_login(rater)
    sent = client.get(reverse("annotation:label", args=[project.pk]))
    assert sent.status_code == 302 and sent["X-Vox-Gate"] == "skill"
    page = client.get(sent["Location"]).content.decode()
    assert 'id="skill-wait"' in page and "need a skill" in page
    api = client.post(reverse("api:next-item", args=[project.pk]))
    assert api.status_code == 409 and api.json()["reason"] == "skill"


@pytest.mark.django_db
def test_qualification_asks_gold_of_the_tags_the_rater_works_on_and_training_all(project, rater):
    from quality.selectors import session_next_gold

    skill_rules_set(project=project, rules=[{"tag": "lang:de"}])
    for pool in (GoldItem.Pool.QUALIFICATION, GoldItem.Pool.TRAINING):
        gold_create(
            project=project,
            data={"text": f"Deutsch {pool}"},
            pool=pool,
            answer="yes",
            meta={"tags": ["lang:de"]},
        )
        gold_create(project=project, data={"text": f"plain {pool}"}, pool=pool, answer="yes")
    QualityPolicy.objects.update_or_create(
        project=project,
        defaults={"requires_qualification": True, "qualification_items": 5},
    )
    membership = _membership(project, rater)
    Membership.objects.filter(pk=membership.pk).update(stage=Stage.QUALIFYING)
    membership.refresh_from_db()
    test = session_start(membership=membership, kind="qualification")
    assert test.n_items == 1  # the German item is not this rater's work
    assert session_next_gold(test).item.data["text"] == "plain qualification"
    Membership.objects.filter(pk=membership.pk).update(stage=Stage.TRAINING)
    membership.refresh_from_db()
    training = session_start(membership=membership, kind="training")
    asked = set()
    for _ in range(2):
        gold = session_next_gold(training)
        asked.add(gold.item.data["text"])
        training.n_items = 2
        training.save(update_fields=["n_items"])
        session_answer(session=training, gold=gold, value="yes")
    assert asked == {"Deutsch training", "plain training"}
