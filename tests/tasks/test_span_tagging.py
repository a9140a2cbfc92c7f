"""Span tagging through its doors: the schema editor, answers, gold, agreement, aggregation
and the exports."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from aggregation.selectors import aggregate_for_items
from annotation.models import Annotation
from quality.dashboard_services import dashboard_snapshot_compute
from tasks import kinds
from tasks.kinds.spans import tokens, unitizing_alpha
from tasks.models import Project
from tasks.schema import SchemaError
from tests.aggregation.helpers import annotate_table
from tests.aggregation.test_kinds import run_now
from tests.conftest import make_raters
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

SPANS = kinds.get("span_tagging")
TEXT = "Ada Lovelace wrote to Charles Babbage in London."
ADA, CHARLES, BABBAGE, LONDON = (0, 12), (22, 29), (30, 37), (41, 47)


def schema(**extra):
    return SPANS.schema_validate({"labels": ["PER", "LOC"], **extra})


def span(where, label="PER"):
    return {"start": where[0], "end": where[1], "label": label}


def answer(*spans):
    return {"spans": list(spans)}


def make_project(**extra):
    return ProjectFactory(kind="span_tagging", schema=schema(**extra), overlap=3)


@pytest.mark.parametrize(
    ("labels", "field"),
    [
        ([], "labels"),
        ("PER", "labels"),
        (["PER", "PER"], "labels[1].value"),
        ([{"value": "PER", "hotkey": "u"}], "labels[0].hotkey"),
        ([{"value": "PER", "color": "red"}], "labels[0].color"),
    ],
)
def test_a_bad_span_schema_names_the_field(labels, field):
    with pytest.raises(SchemaError) as exc:
        SPANS.schema_validate({"labels": labels})
    assert exc.value.field == field


def test_an_answer_is_kept_in_code_points_sorted_and_with_the_text_it_covers():
    text = "🙂 Zoë met Ada."
    value = SPANS.value_validate(
        schema(),
        [{"label": "PER", "text": "Ada"}, {"start": "2", "end": 5, "label": "PER"}],
        {"text": text},
    )
    assert value == {
        "spans": [
            {"start": 2, "end": 5, "label": "PER", "text": "Zoë"},
            {"start": 10, "end": 13, "label": "PER", "text": "Ada"},
        ]
    }


@pytest.mark.parametrize(
    ("spans", "field"),
    [
        ([{"start": 0, "end": 99, "label": "PER"}], "value.spans[0].end"),
        ([{"start": 12, "end": 13, "label": "PER"}], "value.spans[0]"),  # a space
        ([{"start": 0, "end": 3, "label": "ORG"}], "value.spans[0].label"),
        ([{"label": "PER", "text": "Newton"}], "value.spans[0].text"),
        ([span(ADA), {"start": 4, "end": 20, "label": "LOC"}], "value.spans[1]"),
        ("Ada", "value.spans"),
    ],
)
def test_a_bad_span_is_refused_naming_its_field(spans, field):
    with pytest.raises(SchemaError) as exc:
        SPANS.value_validate(schema(), {"spans": spans}, {"text": TEXT})
    assert exc.value.field == field


def test_overlapping_spans_are_kept_where_the_project_allows_them():
    value = SPANS.value_validate(
        schema(allow_overlap=True),
        [span(ADA), {"start": 4, "end": 20, "label": "LOC"}, span(ADA)],
        {"text": TEXT},
    )
    assert [(s["start"], s["end"], s["label"]) for s in value["spans"]] == [
        (0, 12, "PER"),
        (4, 20, "LOC"),
    ]


def test_gold_gives_partial_credit_by_overlap_and_says_what_differs():
    s = schema()
    gold = SPANS.gold_answer_validate(s, answer(span(ADA), span(LONDON, "LOC")), {"text": TEXT})
    given = SPANS.value_validate(s, answer(span((0, 3)), span(CHARLES)), {"text": TEXT})
    # "Ada" over "Ada Lovelace" is 3/12; "Charles" pairs with nothing: F1 = 2 * 0.25 / 4.
    assert SPANS.gold_score(s, gold, given) == pytest.approx(0.125)
    assert SPANS.gold_score(s, gold, gold["value"]) == 1.0
    assert SPANS.feedback_lines(s, gold, given, {"text": TEXT}) == [
        "PER: expected “Ada Lovelace”, you marked “Ada”.",
        "Missed: LOC “London”.",
        "Not expected: PER “Charles”.",
    ]
    empty = SPANS.gold_answer_validate(s, answer(), {"text": TEXT})
    assert SPANS.gold_score(s, empty, answer()) == 1.0
    assert SPANS.gold_score(s, empty, given) == 0.0


def test_unitizing_alpha_matches_krippendorffs_worked_example():
    # Krippendorff (2004), Content Analysis, p. 254: two coders on a continuum from 150 to
    # 450 with categories c and k; his figures are alpha_c = .7286, alpha_k = 1, alpha = .859.
    def unit(begin, length, label):
        return {"start": begin - 150, "end": begin - 150 + length, "label": label}

    first = [unit(225, 70, "c"), unit(370, 30, "c"), unit(180, 60, "k"), unit(300, 50, "k")]
    second = [unit(220, 80, "c"), unit(355, 20, "c"), unit(400, 20, "c")]
    second += [unit(180, 60, "k"), unit(300, 50, "k")]
    alpha, per_label = unitizing_alpha({1: [(1, first), (2, second)]}, ["c", "k"], lengths={1: 300})
    assert per_label["c"] == pytest.approx(0.7286, abs=5e-4)
    assert per_label["k"] == pytest.approx(1.0)
    assert alpha == pytest.approx(0.859, abs=1e-3)


def test_unitizing_alpha_falls_when_raters_place_spans_differently():
    same = {i: [(1, [span(ADA)]), (2, [span(ADA)])] for i in range(3)}
    apart = {i: [(1, [span(ADA)]), (2, [span(LONDON)])] for i in range(3)}
    lengths = dict.fromkeys(range(3), len(TEXT))
    assert unitizing_alpha(same, ["PER"], lengths=lengths)[0] == pytest.approx(1.0)
    assert unitizing_alpha(apart, ["PER"], lengths=lengths)[0] < 0


@pytest.mark.parametrize("method", ["token_vote", "token_dawid_skene"])
def test_aggregation_votes_per_token_and_keeps_adjacent_spans_apart(db, method):
    project = make_project()
    raters = make_raters(project, 3)
    item = ItemFactory(project=project, data={"text": TEXT})
    # Two of three raters see two people side by side ("Charles", "Babbage"); one sees one.
    both = answer(span(ADA), span(CHARLES), span(BABBAGE), span(LONDON, "LOC"))
    one = answer(span(ADA), span((22, 37)))
    annotate_table([item], raters, [[both, both, one]])
    run_now(project, method=method)
    got = aggregate_for_items(project, [item.pk])[item.pk]
    assert [(s["start"], s["end"], s["label"]) for s in got["label"]["spans"]] == [
        (0, 12, "PER"),
        (22, 29, "PER"),
        (30, 37, "PER"),
        (41, 47, "LOC"),
    ]
    assert got["label"]["spans"][3]["text"] == "London"
    assert 0 < got["confidence"] <= 1


def test_with_overlap_allowed_each_label_is_aggregated_on_its_own(db):
    project = make_project(allow_overlap=True)
    raters = make_raters(project, 3)
    item = ItemFactory(project=project, data={"text": TEXT})
    nested = answer(span(ADA), {"start": 0, "end": 37, "label": "LOC"})
    annotate_table([item], raters, [[nested, nested, answer(span(ADA))]])
    run_now(project, method="token_vote")
    got = aggregate_for_items(project, [item.pk])[item.pk]["label"]["spans"]
    assert [(s["start"], s["end"], s["label"]) for s in got] == [(0, 12, "PER"), (0, 37, "LOC")]


def test_the_dashboard_job_reports_rater_f1_and_unitizing_alpha(db, client, manager):
    project = make_project()
    MembershipFactory(project=project, user=manager, role="manager")
    raters = make_raters(project, 2)
    items = ItemFactory.create_batch(2, project=project, data={"text": TEXT})
    agree = answer(span(ADA), span(LONDON, "LOC"))
    annotate_table(items, raters, [[agree, agree], [answer(span(ADA)), answer(span((0, 3)))]])
    figures = {
        f["name"]: f["value"]
        for f in dashboard_snapshot_compute(project_id=project.pk).data["kind_agreement"]
    }
    # Pairs: 2 + 2 shared exact spans of 3 + 3 + 1 + 1; by overlap "Ada" adds 3/12 more.
    assert figures["span_f1"] == pytest.approx(4 / 6, abs=1e-4)
    assert figures["span_f1_overlap"] == pytest.approx((4 + 0.5) / 6, abs=1e-4)
    assert 0 < figures["unitizing_alpha"] < 1
    assert figures["unitizing_alpha:LOC"] == pytest.approx(1.0)
    client.force_login(manager)
    page = client.get(reverse("dashboards:project", args=[project.pk])).content.decode()
    assert "Krippendorff&#x27;s unitizing α" in page and "0.667" in page


@pytest.fixture
def manager_api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


def test_the_conll_export_tags_every_token_from_the_final_label(db, manager, manager_api):
    project = make_project()
    MembershipFactory(project=project, user=manager, role="manager")
    raters = make_raters(project, 3)
    item = ItemFactory(project=project, data={"text": TEXT}, external_id="letter-1")
    lone = ItemFactory(project=project, data={"text": "Nobody here."})
    value = answer(span(ADA), span((22, 37)), span(LONDON, "LOC"))
    annotate_table([item, lone], raters, [[value, value, value], [None, None, None]])
    run_now(project, method="token_vote")
    body = b"".join(
        manager_api.get(f"/api/projects/{project.pk}/export/?type=conll_bio").streaming_content
    ).decode()
    head, *rows = body.strip().split("\n")
    assert head == f"# item_id = {item.pk}" and rows[0] == "# external_id = letter-1"
    assert rows[1:] == [
        "Ada\tB-PER",
        "Lovelace\tI-PER",
        "wrote\tO",
        "to\tO",
        "Charles\tB-PER",
        "Babbage\tI-PER",
        "in\tO",
        "London\tB-LOC",
        ".\tO",
    ]
    lines = b"".join(
        manager_api.get(f"/api/projects/{project.pk}/export/?type=items_jsonl").streaming_content
    ).decode()
    row = json.loads(lines.splitlines()[0])
    assert row["label"]["spans"][1] == {
        "start": 22,
        "end": 37,
        "label": "PER",
        "text": "Charles Babbage",
    }
    assert row["votes"] == {"PER": 6, "LOC": 3}


def test_other_kinds_cannot_export_conll(db, manager, manager_api, project):
    response = manager_api.get(f"/api/projects/{project.pk}/export/?type=conll_bio")
    assert response.status_code == 400
    assert "CoNLL BIO" in json.dumps(response.json())


def test_the_workbench_form_stores_the_spans_and_a_bad_one_saves_nothing(client, db):
    project = make_project()
    rater = UserFactory(username="tagger")
    MembershipFactory(project=project, user=rater)
    ItemFactory.create_batch(2, project=project, data={"text": TEXT})
    client.force_login(rater)
    page = client.get(reverse("annotation:label", args=[project.pk]))
    html = page.content.decode()
    assert 'class="tok" data-s="22" data-e="29">Charles</span>' in html
    served = page.context["entry"]["item"]
    url = reverse("annotation:label-submit", args=[project.pk])
    bad = json.dumps([span(ADA), {"start": 5, "end": 20, "label": "LOC"}])
    response = client.post(
        url,
        {"item_id": served.public_id, "spans": bad, "idempotency_key": "a"},
        HTTP_HX_REQUEST="true",
    )
    assert "overlaps spans[0]" in response.content.decode()
    assert not Annotation.objects.exists()
    good = json.dumps([span(LONDON, "LOC"), span(ADA)])
    client.post(
        url,
        {"item_id": served.public_id, "spans": good, "idempotency_key": "b"},
        HTTP_HX_REQUEST="true",
    )
    stored = Annotation.objects.get()
    assert stored.value["spans"][0] == {
        "start": 0,
        "end": 12,
        "label": "PER",
        "text": "Ada Lovelace",
    }


def test_the_schema_editor_makes_a_span_project(client, manager):
    manager.user_permissions.add(Permission.objects.get(codename="add_project"))
    client.force_login(manager)
    page = client.get(reverse("tasks:schema-fields"), {"kind": "span_tagging"}).content.decode()
    assert 'name="label_value"' in page and 'name="allow_overlap"' in page
    row = client.get(reverse("tasks:schema-row"), {"row": "span_label"}).content.decode()
    assert row.count("<tr>") == 1 and 'name="label_hotkey" value=""' in row
    response = client.post(
        reverse("tasks:project-new"),
        {
            "name": "Names",
            "kind": "span_tagging",
            "overlap": "2",
            "label_value": ["PER", "ORG", ""],
            "label_label": ["Person", "", ""],
            "label_hotkey": ["p", "", ""],
            "label_color": ["#FF0000", "#00ff00", "#000000"],
            "allow_overlap": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    made = Project.objects.get(name="Names").schema
    assert made["allow_overlap"] and [lab["value"] for lab in made["labels"]] == ["PER", "ORG"]
    assert made["labels"][0] == {
        "value": "PER",
        "label": "Person",
        "hotkey": "p",
        "description": "",
        "color": "#ff0000",
    }


def test_tokens_split_words_and_punctuation_in_code_points():
    assert tokens("Zoë's well-known 🙂 cat.") == [(0, 5), (6, 16), (17, 18), (19, 22), (22, 23)]


def test_training_takes_spans_as_quoted_lines_and_gives_partial_credit(client, db):
    from quality.selectors import session_next_gold
    from quality.services import gold_create, policy_update, session_start
    from tasks.services import membership_add

    project = make_project()
    gold_create(
        project=project,
        data={"text": TEXT},
        pool="training",
        answer=answer(span(ADA), span(LONDON, "LOC")),
        explanation="Full names count as one person.",
    )
    policy_update(project=project, requires_qualification=True, training_items_required=1)
    UserFactory(username="nina")
    membership = membership_add(project=project, username="nina", role="annotator")
    session = session_start(membership=membership, kind="training")
    gold = session_next_gold(session)
    client.force_login(membership.user)
    url = reverse("raters:practice", args=[project.pk, "training"])
    page = client.get(url).content.decode()
    # The live widget: the text as tokens, the label keys, the hidden spans field.
    assert 'class="tok" data-s="41" data-e="47">London</span>' in page
    assert 'data-hotkey="2"' in page and 'name="spans"' in page
    bad = client.post(url, {"gold_id": gold.pk, "spans": "ORG Ada"}).content.decode()
    assert "must read label: text" in bad
    response = client.post(url, {"gold_id": gold.pk, "spans": "PER: Ada\nLOC: London\n"})
    html = response.content.decode()
    # "Ada" earns 3/12 of "Ada Lovelace", "London" all of it: F1 = 2 * 1.25 / 4.
    assert "Partly right (62%)" in html or "Partly right (63%)" in html
    assert "PER: expected “Ada Lovelace”, you marked “Ada”." in html


def test_deeply_nested_json_in_a_form_field_is_refused_by_name_not_a_500(client, db):
    # json.loads recurses until it raises (a 500); form fields that hold JSON take the
    # limits of every JSON door instead (config.jsonbody).
    deep = "[" * 50_000 + "]" * 50_000
    project = make_project()
    rater = UserFactory(username="deep")
    MembershipFactory(project=project, user=rater)
    ItemFactory(project=project, data={"text": TEXT})
    client.force_login(rater)
    served = client.get(reverse("annotation:label", args=[project.pk])).context["entry"]["item"]
    response = client.post(
        reverse("annotation:label-submit", args=[project.pk]),
        {"item_id": served.public_id, "spans": deep, "idempotency_key": "d"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "not valid JSON" in response.content.decode()
    assert not Annotation.objects.exists()
    assert kinds.get("ranking").value_from_form({}, {"ranking": deep}) == {"ranking": None}
    with pytest.raises(SchemaError) as exc:
        kinds.get("likert").label_from_form(deep)
    assert exc.value.field == "label"
