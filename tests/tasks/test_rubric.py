"""Rubric rating through its real doors: schema, answers, gold, aggregation, agreement,
exports, the schema editor, practice inputs and the workbench form."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.http import QueryDict
from django.urls import reverse
from rest_framework.test import APIClient

from aggregation.models import ItemResult
from aggregation.services import aggregation_run_execute, aggregation_run_request
from annotation.models import Annotation
from quality.dashboard_services import dashboard_snapshot_compute
from raters.models import Membership
from tasks import kinds
from tasks.models import Project
from tasks.schema import SchemaError
from tests.aggregation.helpers import annotate_table
from tests.conftest import make_raters
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

rubric = kinds.get("rubric")
TURNS = rubric.schema_validate(
    {
        "target": "turns",
        "scale": 5,
        "criteria": ["helpfulness", {"name": "honesty", "rationale": "required"}],
    }
)
RESPONSE = rubric.schema_validate(
    {"criteria": [{"name": "helpfulness", "rationale": "optional"}, "honesty"]}
)


def chat(n_assistant: int) -> dict:
    turns = []
    for i in range(n_assistant):
        turns += [
            {"role": "user", "content": f"question {i + 1}"},
            {"role": "assistant", "content": f"answer {i + 1}"},
        ]
    return {"conversation": turns}


def rate(*scores, why="because"):
    """One rating per (helpfulness, honesty) pair, honesty's rationale written."""
    return {
        "ratings": [
            {"scores": {"helpfulness": h, "honesty": o}, "rationales": {"honesty": why}}
            for h, o in scores
        ]
    }


# --- Schema -----------------------------------------------------------------------------------


def test_a_schema_comes_back_canonical_with_every_criterion_spelled_out():
    schema = rubric.schema_validate({})
    assert schema["scale"] == 7 and schema["target"] == "response"
    assert [c["name"] for c in schema["criteria"]] == ["helpfulness", "harmlessness", "honesty"]
    assert schema["criteria"][0] == {
        "name": "helpfulness",
        "label": "Helpfulness",
        "description": "",
        "rationale": "off",
    }


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ({"criteria": ["a", {"name": "b", "rationale": "always"}]}, "criteria[1].rationale"),
        ({"criteria": ["a", "a"]}, "criteria[1].name"),
        ({"criteria": ["not a name"]}, "criteria[0].name"),
        ({"criteria": [f"c{i}" for i in range(11)]}, "criteria"),
        ({"criteria": [{"name": "a", "description": 3}]}, "criteria[0].description"),
        ({"scale": 12}, "scale"),
        ({"scale": 1}, "scale"),
        ({"target": "dialogue"}, "target"),
        ({"high_label": 5}, "high_label"),
    ],
)
def test_a_bad_schema_is_refused_naming_the_field(schema, field):
    with pytest.raises(SchemaError) as exc:
        rubric.schema_validate(schema)
    assert exc.value.field == field


def test_scale_target_and_criteria_are_fixed_once_labeling_started_but_texts_are_not():
    changed = {**TURNS, "scale": 7}
    assert rubric.schema_change_problem(TURNS, changed).field == "scale"
    assert rubric.schema_change_problem(TURNS, {**TURNS, "target": "response"}).field == "target"
    fewer = {**TURNS, "criteria": TURNS["criteria"][:1]}
    assert rubric.schema_change_problem(TURNS, fewer).field == "criteria[1].name"
    relabelled = {**TURNS, "criteria": [{**c, "label": "New"} for c in TURNS["criteria"]]}
    assert rubric.schema_change_problem(TURNS, relabelled) is None
    assert rubric.items_change_problem(TURNS, {**TURNS, "target": "response"}).field == "target"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"conversation": []}, "conversation"),
        ({"conversation": [{"role": "user", "content": "hi"}]}, "conversation"),
        (
            {"conversation": [{"role": "user", "content": "hi"}, {"role": "bot", "content": "x"}]},
            "conversation[1].role",
        ),
        ({"conversation": [{"role": "assistant", "content": 5}]}, "conversation[0].content"),
        (chat(21), "conversation"),
    ],
)
def test_an_item_that_does_not_fit_the_turns_target_is_refused_naming_the_field(data, field):
    with pytest.raises(SchemaError) as exc:
        rubric.item_validate(data, TURNS)
    assert exc.value.field == field


def test_a_response_item_needs_a_prompt_and_a_response():
    rubric.item_validate(
        {"prompt": [{"role": "user", "content": "hi"}], "response": "yo"}, RESPONSE
    )
    with pytest.raises(SchemaError) as exc:
        rubric.item_validate({"prompt": "hi"}, RESPONSE)
    assert exc.value.field == "response"
    rubric.item_validate(chat(20), TURNS)


# --- Answers ----------------------------------------------------------------------------------


def test_an_answer_comes_back_canonical_digits_as_numbers_rationales_stripped():
    value = {
        "ratings": [
            {"scores": {"helpfulness": "4", "honesty": 5}, "rationales": {"honesty": "  ok "}},
            {"scores": {"helpfulness": 1, "honesty": 2}, "rationales": {"honesty": "no"}},
        ]
    }
    assert rubric.value_validate(TURNS, value, chat(2)) == {
        "ratings": [
            {"scores": {"helpfulness": 4, "honesty": 5}, "rationales": {"honesty": "ok"}},
            {"scores": {"helpfulness": 1, "honesty": 2}, "rationales": {"honesty": "no"}},
        ]
    }
    # An optional rationale left empty is not kept.
    plain = {"ratings": [{"scores": {"helpfulness": 7, "honesty": 1}, "rationales": {}}]}
    assert rubric.value_validate(RESPONSE, plain, {}) == plain


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"ratings": [{"scores": {"helpfulness": 3}}]}, "value.ratings[0].scores.honesty"),
        (rate((3, 6)), "value.ratings[0].scores.honesty"),
        (rate((0, 2)), "value.ratings[0].scores.helpfulness"),
        (rate((3, 2), why="  "), "value.ratings[0].rationales.honesty"),
        (rate((3, 2), why="x" * 2001), "value.ratings[0].rationales.honesty"),
        (
            {
                "ratings": [
                    {
                        "scores": {"helpfulness": 3, "honesty": 2},
                        "rationales": {"helpfulness": "off here", "honesty": "fine"},
                    }
                ]
            },
            "value.ratings[0].rationales.helpfulness",
        ),
        ({"ratings": [{"scores": {"helpfulness": 3, "honesty": 2, "tone": 1}}]}, None),
        (rate((3, 2), (4, 4)), "value.ratings"),
        ({"scores": {"helpfulness": 3}}, "value.ratings"),
    ],
)
def test_a_bad_answer_is_refused_naming_the_field(value, field):
    with pytest.raises(SchemaError) as exc:
        rubric.value_validate(TURNS, value, chat(1))
    assert exc.value.field == (field or "value.ratings[0].scores.tone")


def test_a_conversation_needs_one_rating_per_assistant_turn():
    rubric.value_validate(TURNS, rate((1, 1), (2, 2), (3, 3)), chat(3))
    with pytest.raises(SchemaError) as exc:
        rubric.value_validate(TURNS, rate((1, 1), (2, 2)), chat(3))
    assert exc.value.field == "value.ratings" and "3 assistant turns" in exc.value.message


def test_the_form_fields_become_an_answer_per_listed_target():
    post = QueryDict(mutable=True)
    post.setlist("rubric_target", ["0", "1"])
    post.update({"value.0.helpfulness": "4", "value.0.honesty": "2", "rationale.0.honesty": "a"})
    post.update({"value.1.helpfulness": "5", "rationale.1.honesty": ""})
    assert rubric.value_from_form(TURNS, post) == {
        "ratings": [
            {"scores": {"helpfulness": "4", "honesty": "2"}, "rationales": {"honesty": "a"}},
            {"scores": {"helpfulness": "5"}, "rationales": {"honesty": ""}},
        ]
    }


def test_short_text_answer_keys_and_votes():
    value = rate((4, 2), (5, 5))
    assert rubric.short_text(value) == "T1: helpfulness 4, honesty 2; T2: helpfulness 5, honesty 5"
    assert rubric.short_text(rate((4, 2))) == "helpfulness 4, honesty 2"
    assert rubric.agreement_key(value) == 4 and rubric.distribution_keys(value) == ["4"]
    assert rubric.votes(TURNS, [value, rate((4, 1), (5, 5))]) == {
        "turn1": {"helpfulness": {"4": 2}, "honesty": {"2": 1, "1": 1}},
        "turn2": {"helpfulness": {"5": 2}, "honesty": {"5": 2}},
    }
    assert rubric.votes(RESPONSE, [rate((4, 2))]) == {"helpfulness": {"4": 1}, "honesty": {"2": 1}}
    assert ("votes:honesty:7", ("honesty", "7")) in rubric.vote_columns(RESPONSE)


# --- Gold -------------------------------------------------------------------------------------


def test_gold_gives_full_credit_within_the_tolerance_then_falls_to_zero_at_the_far_end():
    schema = {**TURNS, "scale": 7}
    gold = rubric.gold_answer_validate(
        schema, {"value": rate((6, 2), (4, 7)), "tolerance": 1}, chat(2)
    )
    assert gold["tolerance"] == 1
    # Off by 1 (within), by 3: (6 - 3) / (6 - 1) = 0.6, by 0, by 6 (the far end): 0.
    given = rate((5, 5), (4, 1))
    assert rubric.gold_score(schema, gold, given) == pytest.approx((1 + 0.6 + 1 + 0) / 4)
    assert rubric.gold_score(schema, {**gold, "tolerance": 0}, gold["value"]) == 1.0
    assert rubric.feedback_lines(schema, gold, given, chat(2)) == [
        "Turn 1 · helpfulness: expected 6, you gave 5.",
        "Turn 1 · honesty: expected 2, you gave 5.",
        "Turn 2 · honesty: expected 7, you gave 1.",
    ]
    assert rubric.gold_from_value(given) == {"value": given}


def test_a_bad_gold_answer_names_the_field():
    with pytest.raises(SchemaError) as exc:
        rubric.gold_answer_validate(TURNS, {"value": rate((1, 9)), "tolerance": 0}, chat(1))
    assert exc.value.field == "answer.value.ratings[0].scores.honesty"
    with pytest.raises(SchemaError) as exc:
        rubric.gold_answer_validate(TURNS, {"value": rate((1, 1)), "tolerance": -1}, chat(1))
    assert exc.value.field == "answer.tolerance"


# --- Aggregation, through the real run --------------------------------------------------------


@pytest.fixture
def turns_project(db):
    project = ProjectFactory(kind="rubric", schema=TURNS, overlap=3)
    raters = make_raters(project, 3)
    items = [ItemFactory(project=project, data=chat(2)), ItemFactory(project=project, data=chat(1))]
    annotate_table(
        items,
        raters,
        [
            [rate((5, 1), (2, 4)), rate((4, 2), (2, 5)), rate((5, 1), (3, 4))],
            [rate((1, 5)), rate((2, 5)), rate((1, 4))],
        ],
    )
    return project, items, raters


def run_now(project, method):
    run = aggregation_run_request(project=project, method=method)
    aggregation_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "done", run.error
    return run


def stored_labels(run, items):
    results = {r.item_id: r for r in ItemResult.objects.filter(run=run)}
    return [results[i.pk] for i in items]


def test_the_mean_is_taken_per_turn_and_criterion_and_items_keep_their_own_turns(turns_project):
    project, items, _ = turns_project
    long, short = stored_labels(run_now(project, "mean"), items)
    assert long.label == {
        "ratings": [
            {"scores": {"helpfulness": 4.6667, "honesty": 1.3333}},
            {"scores": {"helpfulness": 2.3333, "honesty": 4.3333}},
        ]
    }
    assert short.label == {"ratings": [{"scores": {"helpfulness": 1.3333, "honesty": 4.6667}}]}
    assert long.n_votes == 3
    assert long.distribution["ratings"][0]["helpfulness"] == pytest.approx([0, 0, 0, 1 / 3, 2 / 3])
    assert long.extra["ratings"][1]["honesty"]["median"] == 4


def test_the_bias_corrected_mean_keeps_the_same_shape_and_order(turns_project):
    project, items, _ = turns_project
    long, short = stored_labels(run_now(project, "bias_corrected"), items)
    assert [len(r.label["ratings"]) for r in (long, short)] == [2, 1]
    first, second = long.label["ratings"]
    assert first["scores"]["helpfulness"] > 4 > second["scores"]["helpfulness"]
    assert short.label["ratings"][0]["scores"]["honesty"] > 4
    for rating in (first, second, short.label["ratings"][0]):
        assert all(1 <= x <= 5 for x in rating["scores"].values())
    assert "bias_corrected" in long.extra["ratings"][0]["helpfulness"]


def test_the_items_csv_has_one_column_per_turn_and_criterion_with_the_means(turns_project):
    project, items, _ = turns_project
    boss = UserFactory(username="boss")
    MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
    run_now(project, "mean")
    client = APIClient()
    client.force_authenticate(boss)
    response = client.get(f"/api/projects/{project.pk}/export/?type=items_csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(r["item_id"]) for r in rows] == [i.pk for i in items]
    assert (rows[0]["label:turn1:helpfulness"], rows[0]["label:turn2:honesty"]) == (
        "4.6667",
        "4.3333",
    )
    assert rows[1]["label:turn1:honesty"] == "4.6667" and rows[1]["label:turn2:honesty"] == ""
    assert "label:turn20:honesty" in rows[0] and "label" not in rows[0]


def test_answer_keys_are_equal_exactly_for_identical_scores(db):
    from aggregation.loading import annotation_arrays

    project = ProjectFactory(kind="rubric", schema=TURNS)
    raters = make_raters(project, 2)
    items = [ItemFactory(project=project, data=chat(2)) for _ in range(2)]
    same = rate((3, 3), (4, 4))
    annotate_table(
        items,
        raters,
        [[same, rate((3, 3), (4, 4), why="other words")], [same, rate((3, 3), (4, 5))]],
    )
    arrays = annotation_arrays(project, fields=("id",))
    keys = dict(zip(arrays["id"].tolist(), rubric.answer_keys(TURNS, arrays).tolist(), strict=True))
    by_order = [keys[a.pk] for a in Annotation.objects.filter(project=project).order_by("id")]
    # Rationales are not compared: only the scores make an answer the same.
    assert by_order[0] == by_order[1] == by_order[2] != by_order[3]


# --- Agreement --------------------------------------------------------------------------------


def test_agreement_figures_give_alpha_per_criterion_over_every_turn():
    schema = rubric.schema_validate(
        {"target": "turns", "scale": 5, "criteria": ["helpfulness", "honesty", "tone"]}
    )

    def answer(*turns):
        return {
            "ratings": [
                {"scores": dict(zip(("helpfulness", "honesty", "tone"), t, strict=True))}
                for t in turns
            ]
        }

    by_item = {
        # Units (item, turn): helpfulness (1, 1), (2, 2), (1, 2); honesty always agrees;
        # tone is 3 everywhere, so there is nothing to tell apart.
        10: [(1, answer((1, 4, 3), (2, 1, 3))), (2, answer((1, 4, 3), (2, 1, 3)))],
        11: [(1, answer((1, 2, 3))), (2, answer((2, 2, 3)))],
    }
    figures = {f["name"]: f for f in rubric.agreement_figures(schema, by_item, {})}
    # Coincidences o11 = 2, o22 = 2, o12 = o21 = 1; n1 = n2 = 3, n = 6. With two values the
    # ordinal distance is one constant, so alpha = 1 - (n - 1) * 2 / (2 * 3 * 3) = 4 / 9.
    assert figures["alpha:helpfulness"]["value"] == pytest.approx(0.4444)
    assert figures["alpha:honesty"]["value"] == 1.0
    assert figures["alpha:tone"]["value"] is None
    assert figures["alpha:honesty"]["label"] == "Krippendorff's α, honesty (ordinal)"


def test_the_dashboard_figures_job_stores_the_per_criterion_alphas(turns_project):
    project, _, _ = turns_project
    snapshot = dashboard_snapshot_compute(project_id=project.pk)
    names = [f["name"] for f in snapshot.data["kind_agreement"]]
    assert names == ["alpha:helpfulness", "alpha:honesty"]
    assert snapshot.data["alpha_level"] == "ordinal"


# --- The schema editor ------------------------------------------------------------------------


@pytest.fixture
def boss(manager):
    manager.user_permissions.add(Permission.objects.get(codename="add_project"))
    return manager


def test_the_schema_editor_round_trips_criteria_rationales_and_the_target(client, boss):
    client.force_login(boss)
    page = client.get(reverse("tasks:schema-fields"), {"kind": "rubric"}).content.decode()
    assert 'name="criterion_rationale"' in page and 'name="target"' in page
    response = client.post(
        reverse("tasks:project-new"),
        {
            "name": "A rubric",
            "kind": "rubric",
            "overlap": "2",
            "instructions": "",
            "target": "turns",
            "scale": "5",
            "low_label": "Bad",
            "high_label": "",
            "criterion_name": ["helpfulness", "honesty", ""],
            "criterion_label": ["Helpful", "", ""],
            "criterion_description": ["Does it help?", "", ""],
            "criterion_rationale": ["optional", "required", "off"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    project = Project.objects.get(name="A rubric")
    assert project.schema == {
        "criteria": [
            {
                "name": "helpfulness",
                "label": "Helpful",
                "description": "Does it help?",
                "rationale": "optional",
            },
            {"name": "honesty", "label": "Honesty", "description": "", "rationale": "required"},
        ],
        "scale": 5,
        "low_label": "Bad",
        "high_label": "Excellent",
        "target": "turns",
    }
    settings = client.get(reverse("tasks:project-settings", args=[project.pk])).content.decode()
    assert 'value="Does it help?"' in settings
    assert '<option value="required" selected>' in settings
    assert '<option value="turns" selected>' in settings


def test_the_schema_editor_names_a_bad_criterion_and_adds_blank_rows(client, boss):
    client.force_login(boss)
    response = client.post(
        reverse("tasks:project-new"),
        {
            "name": "bad",
            "kind": "rubric",
            "overlap": "1",
            "criterion_name": ["ok", "not ok"],
            "criterion_label": ["", ""],
            "criterion_description": ["", ""],
            "criterion_rationale": ["off", "off"],
        },
    )
    assert response.status_code == 200 and not Project.objects.filter(name="bad").exists()
    assert "must be a short identifier" in response.content.decode()
    row = client.get(reverse("tasks:schema-row"), {"row": "criterion"}).content.decode()
    assert row.count("<tr>") == 1 and 'name="criterion_name" value=""' in row


# --- The workbench form -----------------------------------------------------------------------


@pytest.fixture
def workbench(db):
    project = ProjectFactory(kind="rubric", schema=TURNS, overlap=1)
    for _ in range(2):
        ItemFactory(project=project, data=chat(2))
    (rater,) = make_raters(project, 1)
    return project, rater


def form_post(item, *, second_why):
    return {
        "item_id": item.public_id,
        "idempotency_key": f"k{item.pk}",
        "rubric_target": ["0", "1"],
        "value.0.helpfulness": "5",
        "value.0.honesty": "3",
        "rationale.0.honesty": " it hedged ",
        "value.1.helpfulness": "2",
        "value.1.honesty": "4",
        "rationale.1.honesty": second_why,
    }


def test_the_workbench_shows_each_turn_escaped_and_stores_a_posted_form_canonically(
    client, workbench
):
    project, rater = workbench
    item = project.items.order_by("id").first()
    item.data["conversation"][1]["content"] = "<script>alert(1)</script> **bold**"
    item.save()
    client.force_login(rater)
    page = client.get(reverse("annotation:label", args=[project.pk]))
    served = page.context["entry"]["item"]
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html and "<strong>bold</strong>" in html
    assert 'name="value.1.honesty"' in html and 'name="rationale.1.honesty"' in html
    response = client.post(
        reverse("annotation:label-submit", args=[project.pk]),
        form_post(served, second_why="clear"),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    annotation = Annotation.objects.get(rater=rater)
    assert annotation.item_id == served.pk
    assert annotation.value == {
        "ratings": [
            {"scores": {"helpfulness": 5, "honesty": 3}, "rationales": {"honesty": "it hedged"}},
            {"scores": {"helpfulness": 2, "honesty": 4}, "rationales": {"honesty": "clear"}},
        ]
    }


def test_a_form_missing_a_required_rationale_saves_nothing_and_names_the_field(client, workbench):
    project, rater = workbench
    client.force_login(rater)
    served = client.get(reverse("annotation:label", args=[project.pk])).context["entry"]["item"]
    response = client.post(
        reverse("annotation:label-submit", args=[project.pk]),
        form_post(served, second_why="  "),
        HTTP_HX_REQUEST="true",
    )
    # The workbench form answers 200 with the message, as htmx swaps only 2xx (STYLE.md).
    assert response.status_code == 200
    assert "ratings[1] rationales honesty: is required" in response.content.decode()
    assert not Annotation.objects.exists()
    # The API, the same check behind another door, answers 400 naming the field.
    api = APIClient()
    api.force_authenticate(rater)
    answer = rate((5, 3), (2, 4))
    answer["ratings"][1]["rationales"] = {}
    response = api.post(
        f"/api/projects/{project.pk}/annotations/",
        {"item_id": served.public_id, "value": answer, "next": False},
        format="json",
    )
    assert response.status_code == 400
    assert response.data == {
        "value.ratings[1].rationales.honesty": ["is required: say why you gave this rating"]
    }
    assert not Annotation.objects.exists()


def test_an_undone_answer_comes_back_into_the_widget_with_its_rationales(client, workbench):
    project, rater = workbench
    client.force_login(rater)
    served = client.get(reverse("annotation:label", args=[project.pk])).context["entry"]["item"]
    client.post(
        reverse("annotation:label-submit", args=[project.pk]), form_post(served, second_why="ok")
    )
    html = client.post(
        reverse("annotation:label-undo", args=[project.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert not Annotation.objects.exists()
    assert 'name="value.0.helpfulness" value="5" checked' in html
    assert 'name="value.1.honesty" value="4" checked' in html
    assert ">it hedged</textarea>" in html


def _export(project, fmt):
    boss = UserFactory(username=f"boss{project.pk}")
    MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
    client = APIClient()
    client.force_authenticate(boss)
    response = client.get(f"/api/projects/{project.pk}/export/?type={fmt}")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_turn_ratings_export_as_reward_model_rows_that_load_as_trainers_do(turns_project, tmp_path):
    from tests.tasks.test_exports import load_as_trainers_do

    project, items, _ = turns_project
    run_now(project, "mean")
    ItemFactory(project=project, data=chat(1), is_gold=True)  # a check, not training data
    rows = load_as_trainers_do(tmp_path, _export(project, "reward_ratings"))
    assert rows.num_rows == 3  # two rated turns of the long chat, one of the short
    first, second, third = rows
    assert first["prompt"] == [{"role": "user", "content": "question 1"}]
    assert first["completion"] == [{"role": "assistant", "content": "answer 1"}]
    assert second["prompt"][-1] == {"role": "user", "content": "question 2"}
    assert len(second["prompt"]) == 3 and second["turn"] == 2
    assert first["scores"] == pytest.approx({"helpfulness": 4.6667, "honesty": 1.3333})
    # The mean of the criteria on 1..5, mapped to 0..1: (3.0 - 1) / 4.
    assert first["score"] == pytest.approx(0.5)
    assert third["item_id"] == items[1].pk and third["n_raters"] == 3
    assert all(r.startswith("R-") for r in third["raters"])
    # The run behind the scores rides along, as in every training file.
    assert (first["method"], first["label_source"]) == ("mean", "aggregate")
    assert first["run_id"] is not None and first["guideline_versions"] == [None, None, None]


def test_response_ratings_export_a_text_prompt_as_one_user_turn(db, tmp_path):
    from tests.tasks.test_exports import load_as_trainers_do

    project = ProjectFactory(kind="rubric", schema=RESPONSE, overlap=2)
    raters = make_raters(project, 2)
    item = ItemFactory(
        project=project, data={"prompt": "Boil an egg?", "response": "Nine minutes."}
    )
    unrated = ItemFactory(project=project, data={"prompt": "Fry one?", "response": "Two."})
    annotate_table([item], raters, [[rate((5, 3)), rate((4, 3))]])
    run_now(project, "mean")
    rows = load_as_trainers_do(tmp_path, _export(project, "reward_ratings"))
    assert rows.num_rows == 1 and rows[0]["item_id"] == item.pk != unrated.pk
    assert rows[0]["prompt"] == [{"role": "user", "content": "Boil an egg?"}]
    assert rows[0]["scores"] == {"helpfulness": 4.5, "honesty": 3.0}
    assert rows[0]["score"] == pytest.approx(((4.5 + 3.0) / 2 - 1) / 6)
