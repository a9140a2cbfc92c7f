"""Vox's noisy cross-validation on pairwise projects: a preference classifier over the two
responses' texts, its out-of-fold P(A better), P(B better), P(tie), and the suspects."""

import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aggregation.services import aggregation_run_execute, aggregation_run_request
from annotation.models import Annotation
from modelruns.cv import noisy_cv_preference_probs
from modelruns.models import ModelPrediction
from modelruns.services import model_run_upload, noisy_cv_request, noisy_cv_run
from raters.models import Membership
from tasks import kinds
from tasks import schema as schemas
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

GOOD = "accurate cites sources explains each step clearly correct answer".split()
BAD = "vague wrong rambling guesses off topic rude unsure".split()
FILLER = "the response says it here this is an so".split()
SWAP = kinds.get(schemas.PAIRWISE).model_learner_options({})["swap"]


def words(rng, pool, n=8) -> str:
    return " ".join(rng.choice(pool or FILLER, size=n))


def synthetic_pairs(n, seed=0, ties=0.1):
    """n (prompt, response_a, response_b) with one clearly better response by its words, on a
    random side, and a share of pairs with neither (ties); labels 0 = A, 1 = B, 2 = tie."""
    rng = np.random.default_rng(seed)
    pairs, truth = [], []
    for i in range(n):
        if rng.random() < ties:
            pairs.append((f"question {i}", words(rng, []), words(rng, [])))
            truth.append(2)
        elif rng.random() < 0.5:
            pairs.append((f"question {i}", words(rng, GOOD), words(rng, BAD)))
            truth.append(0)
        else:
            pairs.append((f"question {i}", words(rng, BAD), words(rng, GOOD)))
            truth.append(1)
    return pairs, np.array(truth)


@pytest.fixture
def pairwise_project(db):
    """60 pairwise items, one response clearly better by its words; three raters each pick
    the worse one a fifth of the time, so on some items two of three did: the flipped labels.
    Votes alone cannot tell those from the items where one rater of three slipped."""
    project = ProjectFactory(
        kind=schemas.PAIRWISE, schema=schemas.schema_validate(schemas.PAIRWISE, {}), overlap=3
    )
    manager = UserFactory(username="pam")
    MembershipFactory(project=project, user=manager, role=Membership.Role.MANAGER)
    raters = [UserFactory(username=f"judge{i}") for i in range(3)]
    for user in raters:
        MembershipFactory(project=project, user=user, role=Membership.Role.ANNOTATOR)
    pairs, truth = synthetic_pairs(60, seed=5, ties=0.0)
    rng = np.random.default_rng(7)
    slips = rng.random((60, 3)) < 0.2
    items, votes, flipped = [], [], []
    for j, ((prompt, a, b), t) in enumerate(zip(pairs, truth, strict=True)):
        item = ItemFactory(
            project=project,
            data={"prompt": prompt, "response_a": a, "response_b": b},
            external_id=f"p{j}",
        )
        items.append(item)
        if slips[j].sum() >= 2:
            flipped.append(item)
        votes += [
            Annotation(
                project=project,
                item=item,
                rater=r,
                value={"choice": "AB"[1 - t] if slips[j, k] else "AB"[t]},
                presentation={"swapped": bool((j + k) % 2)},
                idempotency_key=f"{r.pk}-{j}",
            )
            for k, r in enumerate(raters)
        ]
    Annotation.objects.bulk_create(votes)
    run = aggregation_run_request(project=project, method="majority")
    aggregation_run_execute(run_id=run.pk, then_score=False)
    return project, manager, items, flipped


def test_noisy_cross_validation_of_a_pairwise_project_ranks_the_flipped_preferences_first(
    pairwise_project, client
):
    project, manager, items, flipped = pairwise_project
    run = noisy_cv_request(project=project, user=manager)
    noisy_cv_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "done", run.errors
    assert run.labels == ["A", "B", "tie"] and run.n_items == 60 and run.n_epochs == 5
    assert run.stats["learner"] == "preference"
    probs = np.array(list(ModelPrediction.objects.filter(run=run).values_list("probs", flat=True)))
    assert probs.shape == (60, 3) and np.allclose(probs.sum(axis=1), 1)
    client.force_login(manager)
    url = reverse("modelruns:api-suspects", args=[project.pk])
    body = client.get(url).json()
    wrong = {i.pk for i in flipped}
    assert len(wrong) == 4
    # Two raters of three against one: the votes say the worse response; raters plus model
    # side with the model on exactly those items, and on no item where one rater slipped.
    doubted = client.get(url, {"reason": "consensus_disagrees"}).json()["results"]
    assert {r["item_id"] for r in doubted} == wrong
    for row in doubted:
        assert {row["label"], row["model_label"]} == {"A", "B"}
    # The combined ranking mixes in the training dynamics, which memorise some flips: the
    # flipped items lead it, within the first twice as many rows.
    ranks = sorted(r["rank"] for r in body["results"] if r["item_id"] in wrong)
    assert ranks[0] == 1 and ranks[-1] <= 2 * len(wrong), ranks
    listing = reverse("modelruns:list", args=[project.pk])
    assert client.get(listing).status_code == 200
    detail = client.get(reverse("tasks:project-detail", args=[project.pk])).content.decode()
    assert listing in detail
    html = client.get(reverse("modelruns:suspects", args=[project.pk])).content.decode()
    assert flipped[0].external_id in html and 'class="chart data-map"' in html
    # The export carries the same doubts, as for single choice.
    from tasks.export import export_jsonl

    lines = [json.loads(x) for x in "".join(export_jsonl(project)).splitlines()]
    quality = {x["item_id"]: x["label_quality"] for x in lines}
    assert "confident_learning" in quality[flipped[0].pk]["reasons"]


def test_a_pairwise_project_takes_an_uploaded_model_run_over_a_b_and_tie(pairwise_project):
    project, manager, items, _ = pairwise_project
    body = json.dumps({"item_id": items[0].pk, "probs": {"tie": 0.1, "B": 0.2, "A": 0.7}})
    run = model_run_upload(
        project=project,
        user=manager,
        name="reward-model",
        file=SimpleUploadedFile("p.jsonl", body.encode()),
    )
    assert run.status == "done" and run.labels == ["A", "B", "tie"]
    assert ModelPrediction.objects.get(run=run).probs == pytest.approx([0.7, 0.2, 0.1])


def test_the_preference_model_has_no_position_bias_swapping_the_responses_swaps_its_answer():
    pairs, truth = synthetic_pairs(120, seed=1)
    fit = noisy_cv_preference_probs(pairs, truth, n_labels=3, swap=SWAP)
    swapped = [(p, b, a) for p, a, b in pairs]
    mirror = noisy_cv_preference_probs(swapped, np.array(SWAP)[truth], n_labels=3, swap=SWAP)
    assert np.allclose(mirror.probs[:, SWAP], fit.probs, atol=1e-9)
    assert fit.stats["cv_accuracy"] >= 0.85


def test_ties_get_a_higher_tie_probability_than_clear_preferences():
    pairs, truth = synthetic_pairs(200, seed=2, ties=0.15)
    fit = noisy_cv_preference_probs(pairs, truth, n_labels=3, swap=SWAP)
    tie = fit.probs[:, 2]
    assert tie[truth == 2].mean() > 2 * tie[truth < 2].mean()


def test_a_project_whose_better_response_is_always_a_still_learns_from_the_texts():
    # One label alone is nothing to learn from; mirrored, it is: the model learns which words
    # win, so it is surer of A where A's words are the good ones than where both are filler.
    rng = np.random.default_rng(3)
    clear = [(f"q{i}", words(rng, GOOD), words(rng, BAD)) for i in range(40)]
    unclear = [(f"q{i}", words(rng, []), words(rng, [])) for i in range(40, 80)]
    fit = noisy_cv_preference_probs(clear + unclear, np.zeros(80, int), n_labels=3, swap=SWAP)
    assert fit.probs[:40, 0].mean() > fit.probs[40:, 0].mean() + 0.1
    assert fit.probs[:40, 0].min() > np.median(fit.probs[40:, 0])


def test_a_swap_that_does_not_pair_up_the_labels_is_refused():
    pairs, truth = synthetic_pairs(10)
    with pytest.raises(ValueError, match="swap"):
        noisy_cv_preference_probs(pairs, truth, n_labels=3, swap=[1, 2, 0])
