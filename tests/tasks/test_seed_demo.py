from django.core.management import call_command

from quality.models import GoldItem
from tasks.models import Item, Project


def test_the_demo_seeds_twice_without_doubling_and_keeps_gold_out_of_live_items(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    rte = Project.objects.get(name__startswith="RTE:")
    pandalm = Project.objects.get(name__startswith="PandaLM")
    assert rte.items.filter(is_gold=False).count() == 667 == rte.n_items
    assert pandalm.n_items == 999
    # The crowd: 300 pairs with their 10 real crowd labels each, aggregated and scored.
    from aggregation.models import AggregationRun, RaterScore
    from annotation.models import Annotation
    from quality.models import DashboardSnapshot

    crowd = Annotation.objects.filter(project=rte, rater__username__startswith="ext:")
    assert crowd.count() == 3000
    (run,) = AggregationRun.objects.filter(project=rte)
    assert run.status == "done" and run.stats["n_items"] == 300
    assert RaterScore.objects.filter(project=rte).count() >= 10
    assert DashboardSnapshot.objects.filter(project=rte).exists()
    spans = Project.objects.get(kind="span_tagging")
    assert spans.n_items == 150 and spans.memberships.filter(role="annotator").count() == 2
    gold = GoldItem.objects.filter(project=rte)
    assert (
        gold.filter(pool="training").count() == 10 and gold.filter(pool="injection").count() == 40
    )
    live = set(rte.items.filter(is_gold=False).values_list("data__premise", "data__hypothesis"))
    assert not live & set(gold.values_list("item__data__premise", "item__data__hypothesis"))
    assert rte.guidelines.count() == 1
    # Expert labels stay in hidden metadata, never in what raters see.
    assert not Item.objects.filter(data__has_key="gold_label").exists()
