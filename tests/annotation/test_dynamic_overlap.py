"""Labels spent where they change the answer: dynamic overlap stops an item once its
posterior is confident, the re-fit may reopen it, and uncertainty-first order puts
unlabelled items, then the most uncertain, at the head of the queue."""

import json

import numpy as np
import pytest
from django.urls import reverse

from aggregation.numeric.overlap import (
    LEVEL_DONE,
    LEVEL_UNLABELLED,
    categorical_uncertainty,
    uncertainty_levels,
)
from aggregation.scoring import rater_scores_compute
from annotation import queue
from annotation.queue.settle import stop_for
from quality.models import GoldItem, QualityPolicy
from quality.services import gold_create, policy_update
from raters.models import Membership
from tasks.models import ImportJob, Item, Project
from tasks.schema import SchemaError
from tests.aggregation.helpers import annotate
from tests.aggregation.test_kinds import make, run_now
from tests.conftest import make_raters
from tests.factories import ItemFactory


def _set_overlap(project, overlap):
    Project.objects.filter(pk=project.pk).update(overlap=overlap)
    project.refresh_from_db()


def _votes(values, accuracy):
    """(value, gold score sum, gold n, run accuracy, run answers) rows, as the submit path
    reads them; a run that saw each rater on 1,000 answers, so its accuracy stands."""
    return [(v, 0.0, 0, a, 1000) for v, a in zip(values, accuracy, strict=True)]


@pytest.mark.django_db
def test_a_runs_accuracy_from_few_answers_is_shrunk_towards_the_prior(project):
    policy = QualityPolicy(project=project, confidence_target=0.97, overlap_min=2)
    project.overlap = 5
    # Right on three items, so 0.99 by the run: with the evidence of three answers it does not
    # close the item with one agreeing prior rater (0.8), as the same figure on 1,000 does.
    few = [("yes", 0.0, 0, 0.99, 3), ("yes", 0.0, 0, None, None)]
    assert not stop_for(project, policy, few).done
    many = [("yes", 0.0, 0, 0.99, 1000), ("yes", 0.0, 0, None, None)]
    assert stop_for(project, policy, many).done


@pytest.mark.django_db
def test_single_choice_reads_the_rater_scores_stop_confusion_first(project):
    policy = QualityPolicy(project=project, confidence_target=0.8, overlap_min=2)
    project.overlap = 5
    # By their run accuracy (0.9 on 1,000 answers) two agreeing raters close the item; their
    # stop-rule matrices (rater_confusion: a crowd of 0.6 raters) say they do not.
    poor = [[0.6, 0.4], [0.4, 0.6]]
    assert stop_for(project, policy, _votes(["yes", "yes"], [0.9, 0.9])).done
    rows = [(*v, poor) for v in _votes(["yes", "yes"], [0.9, 0.9])]
    assert not stop_for(project, policy, rows).done
    # Stored as JSON text (SQLite) it reads the same; a matrix of another shape is ignored.
    rows = [(*v, json.dumps(poor)) for v in _votes(["yes", "yes"], [0.9, 0.9])]
    assert not stop_for(project, policy, rows).done
    rows = [(*v, [[1.0]]) for v in _votes(["yes", "yes"], [0.9, 0.9])]
    assert stop_for(project, policy, rows).done


@pytest.mark.django_db
def test_the_server_asks_each_kinds_rule_with_its_raters_accuracy(project):
    policy = QualityPolicy(project=project, confidence_target=0.95, overlap_min=2)
    project.overlap = 5
    assert stop_for(project, policy, _votes(["yes", "yes"], [0.9, 0.9])).done
    assert not stop_for(project, policy, _votes(["yes", "yes"], [0.9, 0.5])).done
    assert not stop_for(project, policy, _votes(["yes", "no"], [0.9, 0.9])).done
    assert not stop_for(project, policy, _votes(["yes"], [0.99])).done  # the minimum holds
    assert stop_for(project, policy, _votes(["yes", "no"] * 2 + ["yes"], [0.6] * 5)).done
    pairwise = make("pairwise", {}, overlap=8)
    policy.confidence_target = 0.9
    choice = [{"choice": "A"}]
    assert not stop_for(pairwise, policy, _votes(choice * 2, [0.95] * 2)).done
    assert stop_for(pairwise, policy, _votes(choice * 5, [0.95] * 5)).done
    likert = make("likert", {"scale": 5}, overlap=8)
    policy.likert_width = 2.5
    same = stop_for(likert, policy, _votes([{"q": 4}] * 4, [0.9] * 4))
    spread = stop_for(likert, policy, _votes([{"q": 1}, {"q": 5}] * 2, [0.9] * 4))
    assert same.done and not spread.done


def test_uncertainty_levels_put_the_most_uncertain_highest_and_below_unlabelled():
    u = categorical_uncertainty(np.array([[0.5, 0.5], [0.99, 0.01], [0.8, 0.2]]))
    levels = uncertainty_levels(u)
    assert levels[0] > levels[2] > levels[1]
    assert LEVEL_DONE < levels.min() and levels.max() < LEVEL_UNLABELLED


@pytest.fixture
def dynamic(project):
    """Overlap 3 at most, 2 at least, stop at 95 %; two raters proven on gold, one new."""
    _set_overlap(project, 3)
    policy_update(project=project, confidence_target=0.95, overlap_min=2)
    raters = make_raters(project, 3)
    Membership.objects.filter(project=project, user__in=raters[:2]).update(
        gold_n=30, gold_score_sum=29.0
    )
    return raters


def _answer(project, user, value):
    seat = queue.seat_read(project.pk, user=user)
    lease = queue.next_lease(seat)
    seat = queue.seat_read(project.pk, user=user, item=lease.item.public_id)
    queue.submit(seat, value=value, idempotency_key=f"{user.pk}-{lease.item.pk}")
    return lease.item


@pytest.mark.django_db
def test_an_item_stops_being_served_once_two_trusted_raters_agree(project, dynamic):
    first, second, third = dynamic
    item = ItemFactory(project=project)
    other = ItemFactory(project=project)
    assert _answer(project, first, "yes") == item
    assert _answer(project, second, "yes") == item
    item.refresh_from_db()
    assert item.settled and item.n_done == 2
    # The third rater gets the other item, then nothing: the settled one needs no more.
    assert _answer(project, third, "yes") == other
    assert queue.next_lease(queue.seat_read(project.pk, user=third)) is None
    queue.counters_fold(project_id=project.pk)
    project.refresh_from_db()
    assert project.n_complete == 1  # settled counts once as complete
    from quality.dashboard_services import dashboard_snapshot_compute

    figures = dashboard_snapshot_compute(project_id=project.pk).data["dynamic_overlap"]
    assert (figures["settled"], figures["labels_saved"]) == (1, 1)  # 2 labels, not 3


@pytest.mark.django_db
def test_disagreement_keeps_the_item_open_up_to_the_maximum(project, dynamic):
    first, second, third = dynamic
    item = ItemFactory(project=project)
    _answer(project, first, "yes")
    _answer(project, second, "no")
    item.refresh_from_db()
    assert not item.settled
    assert _answer(project, third, "yes") == item


@pytest.mark.django_db
def test_raters_working_side_by_side_take_an_item_only_as_far_as_its_minimum(project):
    # Overlap 4, at least 2: four raters asking at once do not all take the first item.
    _set_overlap(project, 4)
    policy_update(project=project, confidence_target=0.95, overlap_min=2)
    raters = make_raters(project, 4)
    first, second = ItemFactory.create_batch(2, project=project)
    leases = [queue.next_lease(queue.seat_read(project.pk, user=r)) for r in raters]
    assert [lease.item.pk for lease in leases] == [first.pk, first.pk, second.pk, second.pk]
    # Two votes that disagree leave the first item unsure: it goes out again, one at a time.
    for lease, value in zip(leases[:2], ["yes", "no"], strict=True):
        seat = queue.seat_read(project.pk, user=lease.rater, item=lease.item.public_id)
        queue.submit(seat, value=value, idempotency_key=f"k{lease.pk}")
    late = make_raters(project, 2, prefix="late")
    third = queue.next_lease(queue.seat_read(project.pk, user=late[0]))
    assert third.item.pk == first.pk
    assert queue.next_lease(queue.seat_read(project.pk, user=late[1])) is None


@pytest.mark.django_db
def test_without_dynamic_overlap_raters_side_by_side_fill_an_item_up_to_the_overlap(project):
    _set_overlap(project, 3)
    raters = make_raters(project, 4)
    first, second = ItemFactory.create_batch(2, project=project)
    leases = [queue.next_lease(queue.seat_read(project.pk, user=r)) for r in raters]
    assert [lease.item.pk for lease in leases] == [first.pk] * 3 + [second.pk]


@pytest.mark.django_db
def test_gold_items_run_the_same_check_and_are_never_settled(project, dynamic, settings):
    settings.VOX_GOLD_POLICY = "tests.annotation.test_gold_hook.every_slot_is_gold"
    first, second, _ = dynamic
    ItemFactory(project=project)
    gold = gold_create(
        project=project, data={"text": "a check"}, pool=GoldItem.Pool.INJECTION, answer="yes"
    )
    assert _answer(project, first, "yes").pk == gold.item_id
    assert _answer(project, second, "yes").pk == gold.item_id
    assert not Item.objects.get(pk=gold.item_id).settled


@pytest.mark.django_db
def test_the_background_refit_reopens_a_settled_item_it_finds_unsure(project, dynamic):
    first, second, _ = dynamic
    sure, unsure = ItemFactory.create_batch(2, project=project)
    for item, votes in ((sure, ("yes", "yes")), (unsure, ("yes", "no"))):
        for rater, value in zip((first, second), votes, strict=True):
            annotate(item, rater, value)
    # Settled when the submits saw them (say, before the raters' accuracy was re-measured).
    Item.objects.filter(pk__in=[sure.pk, unsure.pk]).update(n_done=2, settled=True)
    # Two raters with four answers between them: the re-fit's matrices, shrunk towards the
    # crowd, put two agreeing votes at about 87 %, one vote each way at about 50 %.
    policy_update(project=project, confidence_target=0.85)
    run_now(project, method="majority")
    # The rater scores that follow a run re-fit the stop rule's matrices and reopen the
    # items they make unsure (after the run commits; here by hand).
    rater_scores_compute(project_id=project.pk)
    assert Item.objects.get(pk=sure.pk).settled
    assert not Item.objects.get(pk=unsure.pk).settled
    assert queue.next_lease(queue.seat_read(project.pk, user=dynamic[2])).item == unsure


@pytest.mark.django_db
def test_bad_dynamic_settings_are_refused_naming_the_field(project):
    with pytest.raises(SchemaError) as bad:
        policy_update(project=project, confidence_target=1.5)
    assert bad.value.field == "confidence_target"
    with pytest.raises(SchemaError) as too_many:
        policy_update(project=project, confidence_target=0.9, overlap_min=project.overlap + 1)
    assert too_many.value.field == "overlap_min"


@pytest.mark.django_db
def test_uncertainty_first_order_serves_unlabelled_items_then_the_most_uncertain(project):
    _set_overlap(project, 3)
    policy_update(project=project, queue_order="uncertainty")
    raters = make_raters(project, 3)
    agreed, split, fresh = ItemFactory.create_batch(3, project=project)
    for r in raters[:2]:
        annotate(agreed, r, "yes")
    annotate(split, raters[0], "yes")
    annotate(split, raters[1], "no")
    Item.objects.filter(pk__in=[agreed.pk, split.pk]).update(n_done=2)
    run_now(project, method="majority")
    levels = dict(Item.objects.filter(project=project).values_list("pk", "priority"))
    assert levels[fresh.pk] == LEVEL_UNLABELLED
    assert levels[split.pk] > levels[agreed.pk] > LEVEL_DONE
    newcomer = make_raters(project, 1, prefix="new")[0]
    served = []
    for _ in range(3):
        seat = queue.seat_read(project.pk, user=newcomer)
        lease = queue.next_lease(seat)
        served.append(lease.item.pk)
        seat = queue.seat_read(project.pk, user=newcomer, item=lease.item.public_id)
        queue.submit(seat, value="yes", idempotency_key=f"n{lease.item.pk}")
    assert served == [fresh.pk, split.pk, agreed.pk]


@pytest.mark.django_db
def test_the_managers_priorities_survive_uncertainty_first_order_and_come_back_after_it(
    project, manager, client
):
    from tasks.services import items_bulk_apply

    _set_overlap(project, 3)
    raters = make_raters(project, 2)
    urgent = ItemFactory(project=project, priority=50, manager_priority=50)
    later = ItemFactory(project=project, priority=5, manager_priority=5)
    annotate(later, raters[0], "yes")
    annotate(later, raters[1], "no")
    Item.objects.filter(pk=later.pk).update(n_done=2)
    policy_update(project=project, queue_order="uncertainty")
    run_now(project, method="majority")
    levels = dict(Item.objects.filter(project=project).values_list("pk", "priority"))
    assert levels == {urgent.pk: LEVEL_UNLABELLED, later.pk: levels[later.pk]}
    assert LEVEL_DONE < levels[later.pk] < LEVEL_UNLABELLED
    # Set meanwhile, a priority is kept for later and leaves the runs' level alone.
    outcome = items_bulk_apply(
        project=project,
        item_ids=[later.pk],
        action="priority",
        user=manager,
        params={"priority": 7},
    )
    assert "kept for the default order" in outcome.note
    assert Item.objects.get(pk=later.pk).priority == levels[later.pk]
    client.force_login(manager)
    shown = client.get(reverse("api:item-detail", args=[project.pk, later.pk])).json()
    assert shown["priority"] == 7
    # Imported meanwhile, an item waits at the top level until a run places it.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tasks.services import import_create, import_run

    upload = SimpleUploadedFile("new.jsonl", b'{"text": "new", "priority": 9}\n')
    job = import_create(project=project, user=manager, upload=upload, preview=True)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    import_run(job_id=job.pk)
    new = Item.objects.get(project=project, data__text="new")
    assert (new.priority, new.manager_priority) == (LEVEL_UNLABELLED, 9)
    policy_update(project=project, queue_order="priority")
    back = dict(Item.objects.filter(project=project).values_list("pk", "priority"))
    assert back == {urgent.pk: 50, later.pk: 7, new.pk: 9}


@pytest.mark.django_db
def test_unlabelled_items_are_ordered_by_the_models_uncertainty_above_labelled_ones(project):
    from django.utils import timezone

    from modelruns.models import ModelPrediction, ModelRun

    _set_overlap(project, 3)
    policy_update(project=project, queue_order="uncertainty")
    raters = make_raters(project, 2)
    labelled, unsure, sure, unseen = ItemFactory.create_batch(4, project=project)
    annotate(labelled, raters[0], "yes")
    annotate(labelled, raters[1], "no")
    Item.objects.filter(pk=labelled.pk).update(n_done=2)
    run = ModelRun.objects.create(
        project=project,
        name="m",
        status=ModelRun.Status.DONE,
        labels=["yes", "no"],
        finished_at=timezone.now(),
    )
    for item, probs in ((unsure, [0.5, 0.5]), (sure, [0.99, 0.01]), (labelled, [0.5, 0.5])):
        ModelPrediction.objects.create(run=run, item=item, probs=probs)
    run_now(project, method="majority")
    levels = dict(Item.objects.filter(project=project).values_list("pk", "priority"))
    assert levels[unseen.pk] == LEVEL_UNLABELLED
    assert LEVEL_UNLABELLED > levels[unsure.pk] > levels[sure.pk] > levels[labelled.pk]


@pytest.mark.django_db
def test_pairwise_items_are_ordered_by_the_width_of_their_interval():
    project = make("pairwise", {}, overlap=9)
    policy_update(project=project, queue_order="uncertainty")
    raters = make_raters(project, 6)
    pair = {"prompt": "p", "response_a": "a", "response_b": "b"}
    one, many = ItemFactory(project=project, data=pair), ItemFactory(project=project, data=pair)
    annotate(one, raters[0], {"choice": "A"})
    for r in raters:
        annotate(many, r, {"choice": "A"})
    Item.objects.filter(pk=one.pk).update(n_done=1)
    Item.objects.filter(pk=many.pk).update(n_done=6)
    run_now(project, method="majority")
    levels = dict(Item.objects.filter(project=project).values_list("pk", "priority"))
    assert levels[one.pk] > levels[many.pk] > LEVEL_DONE


@pytest.mark.django_db
def test_the_dashboard_replays_silent_gold_to_compare_dynamic_and_fixed_overlap(project):
    from quality.dashboard_services import dashboard_snapshot_compute
    from quality.models import GoldResponse

    _set_overlap(project, 3)
    policy_update(project=project, confidence_target=0.8, overlap_min=2)
    raters = make_raters(project, 3)
    memberships = list(Membership.objects.filter(project=project, user__in=raters))
    easy = gold_create(
        project=project, data={"text": "e"}, pool=GoldItem.Pool.INJECTION, answer="yes"
    )
    hard = gold_create(
        project=project, data={"text": "h"}, pool=GoldItem.Pool.INJECTION, answer="no"
    )
    for gold, values in ((easy, ["yes", "yes", "yes"]), (hard, ["yes", "no", "no"])):
        for m, v in zip(memberships, values, strict=True):
            GoldResponse.objects.create(
                gold=gold, membership=m, mode=GoldResponse.Mode.INJECTION, value=v, score=0.0
            )
    g = dashboard_snapshot_compute(project_id=project.pk).data["dynamic_overlap"]["gold"]
    # Two agreeing votes at the prior's 0.7 reach 0.84: the easy item stops at two; the
    # split one runs to three, where the vote is right.
    assert g["n_gold"] == 2
    assert (g["fixed_accuracy"], g["dynamic_accuracy"]) == (1.0, 1.0)
    assert (g["fixed_labels_per_item"], g["dynamic_labels_per_item"]) == (3.0, 2.5)


@pytest.mark.django_db
def test_gold_answers_join_the_stop_rules_rater_matrices_beside_the_run(project):
    from aggregation.models import RaterScore
    from quality.models import GoldResponse

    raters = make_raters(project, 3)
    # The same live record for all three: they agree on every item, so the run alone cannot
    # tell them apart.
    for n in range(8):
        item = ItemFactory(project=project)
        for r in raters:
            annotate(item, r, "yes" if n % 2 else "no")
    run_now(project, method="majority")
    careful, careless, unproven = (Membership.objects.get(project=project, user=r) for r in raters)
    for n in range(10):
        gold = gold_create(
            project=project, data={"text": f"g{n}"}, pool=GoldItem.Pool.INJECTION, answer="no"
        )
        for m, value in ((careful, "no"), (careless, "yes")):
            GoldResponse.objects.create(
                gold=gold, membership=m, mode=GoldResponse.Mode.INJECTION, value=value, score=0.0
            )
    rater_scores_compute(project_id=project.pk)
    no = [c["value"] for c in project.schema["choices"]].index("no")

    def right_on_no(m):
        score = RaterScore.objects.filter(project=project, rater=m.user).latest("computed_at")
        return score.stop_confusion[no][no]

    assert right_on_no(careful) > right_on_no(unproven) > right_on_no(careless)
    assert right_on_no(careless) < 0.5  # ten wrong answers on gold outweigh the crowd prior
    # The submit path reads each voter's latest matrix with the item's votes.
    from django.db import connection

    from annotation.queue.settle import item_votes

    with connection.cursor() as cursor:
        read = [json.loads(c) if isinstance(c, str) else c for *_, c in item_votes(cursor, item.pk)]
    latest = [
        RaterScore.objects.filter(project=project, rater=r).latest("computed_at").stop_confusion
        for r in raters
    ]
    assert sorted(map(str, read)) == sorted(map(str, latest))
