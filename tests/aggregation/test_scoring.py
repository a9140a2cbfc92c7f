import pytest

from aggregation.models import RaterScore
from aggregation.scoring import rater_scores_compute
from aggregation.selectors import rater_scores_latest
from aggregation.services import (
    aggregation_run_execute,
    aggregation_run_request,
    aggregation_settings_update,
)
from raters.models import Membership
from tasks import schema as schemas
from tests.aggregation.helpers import annotate, annotate_table
from tests.conftest import make_raters
from tests.factories import ItemFactory, ProjectFactory


@pytest.fixture
def crowd(project, django_capture_on_commit_callbacks):
    """Three careful raters and one who always answers "yes" at speed."""
    raters = make_raters(project, 4)
    items = ItemFactory.create_batch(12, project=project)
    truth = ["yes", "no"] * 6
    for item, t in zip(items, truth, strict=True):
        for r in raters[:3]:
            annotate(item, r, t, duration_ms=8000, active_ms=6000)
        annotate(item, raters[3], "yes", duration_ms=900)
    Membership.objects.filter(project=project, user=raters[0]).update(gold_n=20, gold_score_sum=19)
    run = aggregation_run_request(project=project, method="dawid_skene")
    with django_capture_on_commit_callbacks(execute=True):
        aggregation_run_execute(run_id=run.pk)  # the rater-scoring job follows the run
    return raters


def latest(project):
    return {s.rater.username: s for s in rater_scores_latest(project)}


def test_a_run_is_followed_by_one_score_snapshot_per_rater(project, crowd):
    scores = latest(project)
    assert set(scores) == {"r0", "r1", "r2", "r3"}
    careful, spammer = scores["r1"], scores["r3"]
    assert careful.agreement_with_aggregate == 1.0
    assert spammer.agreement_with_aggregate == pytest.approx(0.5)
    assert careful.kappa_mean > spammer.kappa_mean
    assert careful.ds_accuracy > 0.9 > spammer.ds_accuracy
    assert careful.mace_competence > spammer.mace_competence
    assert len(careful.ds_confusion) == 2 and len(careful.ds_confusion[0]) == 2


def test_gold_accuracy_is_the_beta_posterior_of_the_membership_counts(project, crowd):
    scores = latest(project)
    assert scores["r0"].gold_n == 20
    assert scores["r0"].gold_accuracy_mean == pytest.approx(20 / 22)
    assert scores["r0"].gold_accuracy_lower < scores["r0"].gold_accuracy_mean
    assert scores["r1"].gold_accuracy_mean is None


def test_speed_and_straight_lining_single_out_the_fast_constant_rater(project, crowd):
    scores = latest(project)
    assert scores["r3"].fast_fraction == 1.0 and scores["r1"].fast_fraction == 0.0
    assert scores["r1"].duration_ms_median == 8000 and scores["r1"].active_ms_median == 6000
    assert scores["r3"].active_ms_median is None
    assert scores["r3"].straightline_streak == 12 and scores["r3"].modal_share == 1.0
    assert scores["r1"].straightline_streak == 1 and scores["r1"].modal_share == 0.5


def test_the_latest_snapshot_per_rater_comes_in_one_query(
    project, crowd, django_assert_num_queries
):
    rater_scores_compute(project_id=project.pk)
    assert RaterScore.objects.filter(project=project).count() == 8
    with django_assert_num_queries(1):
        rows = list(rater_scores_latest(project))
        names = [r.rater.username for r in rows]
    assert names == ["r0", "r1", "r2", "r3"]


def test_subjective_projects_do_not_penalise_disagreement(project, crowd):
    aggregation_settings_update(project=project, subjective=True)
    rater_scores_compute(project_id=project.pk)
    assert not any(s.agreement_penalises for s in rater_scores_latest(project))


def test_position_bias_counts_the_side_shown_not_the_stored_side(db):
    project = ProjectFactory(
        kind=schemas.PAIRWISE, schema=schemas.schema_validate(schemas.PAIRWISE, {})
    )
    (left_clicker,) = make_raters(project, 1)
    items = ItemFactory.create_batch(10, project=project)
    for k, item in enumerate(items):
        swapped = k % 2 == 1
        # Always clicks the left side: stored as B when the sides were swapped.
        choice = "B" if swapped else "A"
        annotate(
            item,
            left_clicker,
            {"choice": choice, "flags": {"A": [], "B": []}, "rationale": ""},
            presentation={"swapped": swapped},
        )
    rater_scores_compute(project_id=project.pk)
    score = rater_scores_latest(project).get()
    assert (score.position_left, score.position_right) == (10, 0)
    assert score.position_share_left == 1.0
    assert score.position_p_value < 0.01


def test_likert_straight_lining_is_measured_on_whole_answers(db):
    project = ProjectFactory(
        kind=schemas.LIKERT,
        schema=schemas.schema_validate(schemas.LIKERT, {"dimensions": ["a", "b"]}),
    )
    raters = make_raters(project, 2)
    items = ItemFactory.create_batch(4, project=project)
    annotate_table(
        items,
        raters,
        [[{"a": 3, "b": 3}, {"a": 1, "b": 5}] for _ in range(3)]
        + [[{"a": 3, "b": 3}, {"a": 2, "b": 5}]],
    )
    rater_scores_compute(project_id=project.pk)
    scores = latest(project)
    assert scores["r0"].straightline_streak == 4
    assert scores["r1"].straightline_streak == 3


def test_a_raters_ordinal_figures_against_the_final_rating_are_exact_on_a_small_table():
    import numpy as np

    from quality.numeric import ordinal_rater_figures

    # Rater 0 always matches; rater 1 is one point high on two of four; rater 2 reverses.
    reference = np.array([0, 1, 2, 3] * 3)
    given = np.array([0, 1, 2, 3, 1, 2, 2, 3, 3, 2, 1, 0])
    raters = np.repeat([0, 1, 2], 4)
    closeness, confusion, kappa = ordinal_rater_figures(
        raters, given, reference, n_raters=4, n_levels=4
    )
    assert closeness[:3] == pytest.approx([1.0, 1 - 2 / (4 * 3), 1 - 8 / (4 * 3)])
    assert np.isnan(closeness[3]) and np.isnan(kappa[3])
    assert confusion[1].tolist() == [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    assert kappa[0] == pytest.approx(1.0) and kappa[2] == pytest.approx(-1.0)
    # By hand for rater 1: observed quadratic disagreement 2/36 (two cells one step off,
    # weight 1/9 each, a quarter of the votes each); expected from the margins (a quarter
    # on each final rating; given 0, 1/4, 1/2, 1/4) 2/9; kappa 1 - (2/36) / (2/9) = 0.75.
    assert kappa[1] == pytest.approx(0.75)


def test_likert_raters_are_scored_against_the_final_ratings_with_an_ordinal_confusion(db, client):
    project = ProjectFactory(
        kind=schemas.LIKERT,
        schema=schemas.schema_validate(schemas.LIKERT, {"scale": 5, "dimensions": ["a"]}),
        overlap=3,
    )
    raters = make_raters(project, 3)
    items = ItemFactory.create_batch(6, project=project)
    # r0 and r1 agree on a spread of ratings; r2 rates everything 5.
    table = [[{"a": x}, {"a": x}, {"a": 5}] for x in (1, 2, 3, 4, 5, 1)]
    annotate_table(items, raters, table)
    run = aggregation_run_request(project=project, method="median")
    aggregation_run_execute(run_id=run.pk)
    rater_scores_compute(project_id=project.pk)
    scores = latest(project)
    careful, constant = scores["r0"], scores["r2"]
    assert careful.agreement_with_aggregate == pytest.approx(1.0)
    assert careful.ordinal_kappa == pytest.approx(1.0)
    assert constant.ordinal_kappa == pytest.approx(0.0, abs=1e-9)  # no better than chance
    assert constant.agreement_with_aggregate < 0.7
    # Rows: the final (median) rating 1..5; r2's every answer falls in the last column.
    assert [row[-1] for row in constant.ordinal_confusion] == [2, 1, 1, 1, 1]
    assert sum(map(sum, careful.ordinal_confusion)) == 6

    # The rater page draws it and its JSON carries the counts, for the project's manager.
    from django.urls import reverse

    from tests.factories import MembershipFactory, UserFactory

    boss = UserFactory(username="boss")
    MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
    client.force_login(boss)
    m = Membership.objects.get(project=project, user=raters[2])
    page = client.get(reverse("dashboards:rater", args=[project.pk, m.pk])).content.decode()
    assert "Ratings against the final rating" in page and "Dawid–Skene" not in page
    data = client.get(reverse("dashboards:api-rater", args=[project.pk, m.pk])).json()
    assert data["ordinal"]["points"] == ["1", "2", "3", "4", "5"]
    assert data["ordinal"]["matrix"] == constant.ordinal_confusion


def test_kendall_tau_b_of_rankings_against_the_final_order_counts_ties_as_tau_b_does():
    import numpy as np

    from quality.numeric import ranking_rater_figures

    final = np.array([[0, 1, 2, -1], [0, 1, 2, 3], [0, 1, 2, 3]])
    given = np.array([[0, 1, 2, -1], [3, 2, 1, 0], [0, 0, 1, 2]])  # same; reversed; tied top
    tau, confusion = ranking_rater_figures(
        np.array([0, 1, 1]), given, final, n_raters=2, n_positions=4
    )
    # Rater 1: -1 for the reversal; tau-b of (0,0,1,2) against (0,1,2,3) is 5/sqrt(5*6).
    assert tau[0] == pytest.approx(1.0)
    assert tau[1] == pytest.approx((-1 + 5 / np.sqrt(30)) / 2)
    assert confusion[0].trace() == 3 and confusion[1][0].tolist() == [1, 0, 0, 1]


def test_ranking_raters_are_scored_by_kendall_tau_against_the_final_order(db):
    project = ProjectFactory(
        kind=schemas.RANKING, schema=schemas.schema_validate(schemas.RANKING, {}), overlap=4
    )
    raters = make_raters(project, 4)
    items = ItemFactory.create_batch(
        5, project=project, data={"prompt": "p", "responses": ["a", "b", "c"]}
    )
    same, backwards = {"ranking": [[0], [1], [2]]}, {"ranking": [[2], [1], [0]]}
    annotate_table(items, raters, [[same, same, same, backwards] for _ in items])
    run = aggregation_run_request(project=project, method="borda")
    aggregation_run_execute(run_id=run.pk)
    rater_scores_compute(project_id=project.pk)
    scores = latest(project)
    assert scores["r0"].ranking_tau == pytest.approx(1.0)
    assert scores["r3"].ranking_tau == pytest.approx(-1.0)
    assert scores["r3"].agreement_with_aggregate == pytest.approx(0.0)
    # Rows: the final place; r3 puts the final first in its last tier, every time.
    assert scores["r3"].ordinal_confusion[0][2] == 5
