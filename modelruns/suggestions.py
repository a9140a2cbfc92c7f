"""Model suggestions on the workbench (pre-labelling), and how much they anchor raters.

*Who sees them.* A fixed share of the project's raters (QualityPolicy.suggest_share),
chosen by a hash of project and rater: a rater stays in one group from item to item, so the
others are a control group that answers the same items unaided. Suggestions are a hint,
never a pre-filled answer: a default that a rater only has to confirm is the strongest
anchor there is, and the measure below should show the effect of a hint before a team
decides it wants more.

*What.* The top label of the project's latest finished model run (an upload or Vox's own
noisy cross-validation), for kinds whose items take one class (Kind.item_classes).

*Gold.* Silent gold must look like any item. A run without a prediction for one of the
injection pool's gold items would show suggestions on live items only, and the missing
hint would mark the gold: such a run suggests nothing, to anyone (the quality page says
why). Gold and live items take the same two queries.

*The record.* Every answer's presentation keeps the model's label for its item at submit
time and whether its rater was shown it (`suggestion`, `suggestion_shown`), in both groups.
`anchoring_figures` compares them: how often each group agrees with the model, and how
often each is right on gold.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Exists, OuterRef

from modelruns.models import ModelPrediction, ModelRun
from modelruns.selectors import model_runs_by_use
from quality.models import GoldItem
from tasks import kinds

SHOWN, LABEL = "suggestion_shown", "suggestion"


def _suggests(label_kind) -> bool:
    """Kinds whose items take one class, shown as they are: with sides (pairwise), the
    workbench may swap them, and a run's "A" would point at the wrong response."""
    return label_kind.item_classes and not label_kind.has_sides


@dataclass(frozen=True)
class Suggestions:
    """The model's label for some items, and whether this rater is shown them."""

    shown: bool
    labels: dict[int, str]
    run_id: int


def in_shown_group(project_id: int, rater_id: int, share: int) -> bool:
    """Whether a rater is in the `share` percent shown suggestions: a stable hash, not a
    random draw per request, so a rater's group never changes while the share does not."""
    digest = hashlib.blake2b(f"{project_id}:{rater_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100 < share


def _share(project) -> int:
    from quality.selectors import policy_for

    # The seat brings the policy with the project (annotation.queue.seat); other doors read it.
    cached = project._state.fields_cache.get("quality", False)
    policy = cached if cached is not False else policy_for(project)
    return policy.suggest_share if policy is not None else 0


def _latest_run(project):
    """The run in use (modelruns.selectors.model_runs_by_use), with whether some injection
    gold lacks a prediction in it."""
    lacking = GoldItem.objects.filter(
        project_id=OuterRef("project_id"), pool=GoldItem.Pool.INJECTION
    ).exclude(
        Exists(
            ModelPrediction.objects.filter(
                run_id=OuterRef(OuterRef("pk")), item_id=OuterRef("item_id")
            )
        )
    )
    return (
        model_runs_by_use(project)
        .annotate(gold_gap=Exists(lacking))
        .values("pk", "labels", "gold_gap")
        .first()
    )


def suggestions_for(project, rater_id: int, item_ids) -> Suggestions | None:
    """The label of the run in use for each of `item_ids` that it predicts, and whether this
    rater sees them; None when the project shows no suggestions (share 0, a kind without
    classes, no finished run, or a run that misses some silent gold)."""
    share = _share(project)
    if share <= 0 or not _suggests(kinds.get(project.kind)):
        return None
    run = _latest_run(project)
    if run is None or run["gold_gap"]:
        return None
    labels = list(run["labels"])
    ids = [i for i in item_ids if i is not None]
    rows = ModelPrediction.objects.filter(run_id=run["pk"], item_id__in=ids).values_list(
        "item_id", "probs"
    )
    return Suggestions(
        shown=in_shown_group(project.pk, rater_id, share),
        labels={item_id: labels[int(np.argmax(probs))] for item_id, probs in rows},
        run_id=run["pk"],
    )


def shown_suggestion(project, rater_id: int, item_id: int) -> str | None:
    """What this rater's screen (or API client) shows for one item: a label or None."""
    found = suggestions_for(project, rater_id, [item_id])
    return found.labels.get(item_id) if found is not None and found.shown else None


def suggestion_record(project, rater_id: int, item_id: int) -> dict:
    """The presentation keys an answer keeps of the suggestion, in both groups."""
    found = suggestions_for(project, rater_id, [item_id])
    if found is None or item_id not in found.labels:
        return {}
    return {LABEL: found.labels[item_id], SHOWN: found.shown}


def suggestion_status(project) -> dict:
    """For the manager: whether suggestions are on, with which run, and if not, why."""
    share = _share(project)
    status = {"share": share, "run": None, "active": False, "why": ""}
    if not _suggests(kinds.get(project.kind)):
        status["why"] = "suggestions are for single-choice projects"
        return status
    run = _latest_run(project)
    if run is None:
        status["why"] = "no model run has finished yet"
        return status
    status["run"] = ModelRun.objects.get(pk=run["pk"])
    if run["gold_gap"]:
        missing = (
            GoldItem.objects.filter(project=project, pool=GoldItem.Pool.INJECTION)
            .exclude(item_id__in=ModelPrediction.objects.filter(run_id=run["pk"]).values("item_id"))
            .count()
        )
        status["why"] = (
            f"the model run in use has no prediction for {missing} silent gold item"
            f"{'s' if missing != 1 else ''}; suggestions on live items only would mark the gold"
        )
        return status
    if share <= 0:
        status["why"] = "the share of raters shown suggestions is 0"
        return status
    status["active"] = True
    return status


def _proportion(right: float, n: int) -> dict:
    """A share with its 90% band, on the trust posterior's Beta rule (quality.numeric)."""
    from quality.numeric import trust_posterior

    if not n:
        return {"n": 0, "share": None, "lower": None, "upper": None}
    post = trust_posterior(right, n)
    return {
        "n": n,
        "share": round(right / n, 4),
        "lower": round(float(post.lower[0]), 4),
        "upper": round(float(post.upper[0]), 4),
    }


def _answers(project):
    from annotation.models import Annotation

    return Annotation.objects.filter(project=project, presentation__has_key=SHOWN)


def _gold_accuracy(project) -> dict:
    """Accuracy on silent gold in each group: does the hint help raters or mislead them?"""
    from quality.scoring import gold_score

    answers = dict(GoldItem.objects.filter(project=project).values_list("item_id", "answer"))
    rows = (
        _answers(project)
        .filter(item__is_gold=True)
        .values_list(f"presentation__{SHOWN}", "item_id", "value")
        .annotate(n=Count("id"))
        .order_by()
    )
    score = {True: [0.0, 0], False: [0.0, 0]}
    for shown, item_id, value, n in rows:
        if item_id in answers:
            cell = score[bool(shown)]
            cell[0] += n * gold_score(project.kind, project.schema, answers[item_id], value)
            cell[1] += n
    return {"shown": _proportion(*score[True]), "hidden": _proportion(*score[False])}


def anchoring_figures(project) -> dict | None:
    """Agreement with the model's label among raters shown it against those not shown it,
    with 90% intervals, and accuracy on silent gold in each group; None before any answer
    recorded a suggestion. Grouped in SQL: one row per (group, label, answer)."""
    label_kind = kinds.get(project.kind)
    if not _suggests(label_kind):
        return None
    grouped = (
        _answers(project)
        .values_list(f"presentation__{SHOWN}", f"presentation__{LABEL}", "value")
        .annotate(n=Count("id"))
        .order_by()
    )
    agree = {True: [0, 0], False: [0, 0]}
    for shown, suggestion, value, n in grouped:
        cell = agree[bool(shown)]
        cell[0] += n if label_kind.distribution_keys(value) == [suggestion] else 0
        cell[1] += n
    if not agree[True][1] and not agree[False][1]:
        return None
    shown, hidden = _proportion(*agree[True]), _proportion(*agree[False])
    effect = None
    if shown["n"] and hidden["n"]:
        effect = round(shown["share"] - hidden["share"], 4)
    gold = _gold_accuracy(project)
    return {
        "shown": shown,
        "hidden": hidden,
        "effect": effect,
        "gold": gold,
        # The dashboard's table: (group, agreement, gold accuracy) per row.
        "rows": [("shown", shown, gold["shown"]), ("hidden", hidden, gold["hidden"])],
    }
