"""``auto`` in the app: the default method, what a run records, the dashboard, the export."""

import json

import numpy as np
import pytest
from django.urls import reverse

from aggregation.methods import RaterInfo, categorical_model, default_method
from aggregation.numeric.auto import CANDIDATES
from aggregation.selectors import aggregate_for_items
from tasks import schema as schemas
from tests.aggregation.test_kinds import run_now
from tests.aggregation.test_numeric_auto import adversary_crowd
from tests.tasks.test_exports import labelled, text, votes

# The pilot of issue 20: both raters chose B on pw-2, yet Dawid–Skene (not identified on two
# raters) labelled it A, so the preference export listed the rejected response as chosen.
PILOT = [("A", "A"), ("B", "B"), ("B", "A"), ("A", "B"), ("B", "A"), ("A", "A")]


def pilot(manager):
    records = [
        {
            "prompt": f"p{n}",
            "response_a": f"a{n}",
            "response_b": f"b{n}",
            "external_id": f"pw-{n}",
            "labels": votes(*choices),
        }
        for n, choices in enumerate(PILOT, start=1)
    ]
    return labelled(manager, "pairwise", {"allow_tie": True}, records, overlap=2)


def test_a_two_rater_pairwise_pilot_labels_pw_2_b_and_exports_its_b_response_as_chosen(manager):
    project = pilot(manager)
    run = run_now(project)
    assert run.method == "auto" and run.stats["auto"]["chosen"] == "majority"
    items = {i.external_id: i.pk for i in project.items.all()}
    got = aggregate_for_items(project, list(items.values()))
    labels = {ext: got[pk]["label"] for ext, pk in items.items()}
    # The split votes prefer neither side: ties, not A, the side shown first.
    assert labels == {
        "pw-1": "A",
        "pw-2": "B",
        "pw-3": "tie",
        "pw-4": "tie",
        "pw-5": "tie",
        "pw-6": "A",
    }
    pairs = [json.loads(line) for line in text(project, format="preference_jsonl").splitlines()]
    chosen = {p["external_id"]: (p["chosen"], p["rejected"]) for p in pairs}
    assert chosen == {"pw-1": ("a1", "b1"), "pw-2": ("b2", "a2"), "pw-6": ("a6", "b6")}
    assert all(p["method"] == "auto" for p in pairs)


def test_a_run_records_which_method_auto_chose_why_and_every_candidates_score(manager):
    run = run_now(pilot(manager))
    choice = run.stats["auto"]
    assert choice["reason"].startswith("no rater model can be identified: a median of 2 rater")
    assert set(choice["scores"]) == set(CANDIDATES)
    assert [m for m in CANDIDATES if choice["scores"][m]["eligible"]] == ["majority"]
    assert "tell who erred" in choice["scores"]["dawid_skene"]["note"]
    assert choice["n_kept_unanimous"] == 0


def test_on_a_crowd_big_enough_auto_fits_a_rater_model_and_records_its_held_out_likelihood(
    manager,
):
    # 40 items, 4 raters: three mostly right, one who always answers "no".
    records = []
    for n in range(40):
        truth = "yes" if n % 3 else "no"
        wrong = "no" if truth == "yes" else "yes"
        answers = [truth, truth, wrong if n % 5 == 0 else truth, "no"]
        records.append(
            {
                "text": f"t{n}",
                "labels": [{"rater": f"r{r}", "value": v} for r, v in enumerate(answers)],
            }
        )
    project = labelled(manager, "single_choice", {"choices": ["yes", "no"]}, records, overlap=4)
    run = run_now(project)
    choice = run.stats["auto"]
    assert choice["chosen"] != "majority"
    scores = choice["scores"]
    assert scores[choice["chosen"]]["held_out_log_likelihood"] == max(
        s["held_out_log_likelihood"] for s in scores.values() if s["eligible"]
    )
    assert "held-out log-likelihood" in choice["reason"] and "n_iter" in run.stats


def test_a_one_rater_project_gets_that_raters_labels(manager):
    answers = ["no", "yes", "maybe", "yes", "no"]
    records = [
        {"text": f"t{n}", "labels": [{"rater": "solo", "value": v}]} for n, v in enumerate(answers)
    ]
    schema = {"choices": ["yes", "no", "maybe"]}
    project = labelled(manager, "single_choice", schema, records, overlap=1)
    run = run_now(project)
    assert run.stats["auto"]["chosen"] == "majority"
    items = list(project.items.order_by("pk"))
    got = aggregate_for_items(project, [i.pk for i in items])
    assert [got[i.pk]["label"] for i in items] == answers
    rows = [json.loads(line) for line in text(project, annotations=False).splitlines()]
    assert [r["label"] for r in rows] == answers


def test_multi_choice_auto_records_a_choice_per_tag(manager):
    records = [
        {
            "text": "a",
            "labels": [{"rater": "r0", "value": ["spam"]}, {"rater": "r1", "value": ["spam"]}],
        },
        {"text": "b", "labels": [{"rater": "r0", "value": []}, {"rater": "r1", "value": ["rude"]}]},
    ]
    project = labelled(manager, "multi_choice", {"choices": ["spam", "rude"]}, records, overlap=2)
    run = run_now(project)
    assert {t: s["auto"]["chosen"] for t, s in run.stats["tags"].items()} == {
        "spam": "majority",
        "rude": "majority",
    }


def test_the_project_dashboard_says_what_auto_chose_and_why(client, manager):
    project = pilot(manager)
    run_now(project)
    client.force_login(manager)
    html = client.get(reverse("dashboards:project", args=[project.pk])).content.decode()
    assert "auto → chose <strong>majority</strong> because no rater model can be identified" in html
    data = client.get(reverse("dashboards:api-project", args=[project.pk])).json()
    assert data["current_run"]["stats"]["auto"]["chosen"] == "majority"


@pytest.mark.parametrize(
    ("kind", "subjective", "method"),
    [
        (schemas.SINGLE_CHOICE, False, "auto"),
        (schemas.MULTI_CHOICE, False, "auto"),
        (schemas.PAIRWISE, False, "auto"),
        (schemas.SINGLE_CHOICE, True, "majority"),
        (schemas.PAIRWISE, True, "majority"),
        (schemas.LIKERT, False, "mean"),
    ],
)
def test_auto_is_the_default_where_raters_are_judged_against_a_truth(kind, subjective, method):
    assert default_method(kind, subjective=subjective) == method


def test_raters_whose_gold_trust_band_lies_below_one_half_may_be_overruled_and_others_not():
    (item_idx, rater_idx, label), shape = adversary_crowd()
    votes = (item_idx, rater_idx, label, shape["n_items"], shape["n_raters"], 2)

    def auto_label(gold_n, gold_right):
        raters = RaterInfo(
            gold_n=np.array(gold_n, float), gold_score_sum=np.array(gold_right, float)
        )
        res, stats = categorical_model("auto", votes, raters, {}, subjective=False)
        return res.label[30], stats["auto"]["n_kept_unanimous"]

    assert auto_label([0, 0, 0, 0], [0, 0, 0, 0]) == (1, 1)  # no gold: the vote stands
    assert auto_label([0, 0, 0, 3], [0, 0, 0, 1]) == (1, 1)  # 1 of 3: not credibly bad
    assert auto_label([0, 0, 0, 12], [0, 0, 0, 1]) == (0, 0)  # 1 of 12: credibly bad
