"""Reads of model runs, and the suspects: the label checks of quality.numeric over the latest
run's probabilities, the current aggregate labels and the raters' votes.

Managers only: every entry point takes a project from tasks.selectors.project_for_manager,
so raters never see a model run or a suspect (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import Http404

from aggregation.loading import annotation_arrays
from aggregation.models import ItemResult
from aggregation.selectors import aggregation_run_current
from modelruns.models import ModelPrediction, ModelRun
from quality import numeric
from quality.models import GoldItem
from tasks import kinds
from tasks.models import Item

PAGE_SIZE = 50
REASONS = {
    "confident_learning": "confident learning: the model confidently prefers another label",
    "consensus_disagrees": "raters plus model agree on another label",
    "low_aum": "low area under the margin: training kept preferring another label",
    "forgotten": "learned, then forgotten during training",
    "never_learned": "never learned in any epoch",
    "hard_to_learn": "hard to learn: low confidence, low variability (data map)",
}


def model_run_list(project) -> QuerySet[ModelRun]:
    return ModelRun.objects.filter(project=project).select_related("created_by")


def model_run_for_project(project, run_id) -> ModelRun:
    try:
        return ModelRun.objects.get(pk=run_id, project=project)
    except (ModelRun.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def model_runs_by_use(project):
    """The project's finished runs, the one in use first: the pinned run if a manager chose
    one, else the latest. Every door that reads "the model" (suggestions, suspects, the
    uncertainty-first queue, the export's label quality) takes the first of these."""
    return ModelRun.objects.filter(project=project, status=ModelRun.Status.DONE).order_by(
        "-pinned", "-finished_at", "-id"
    )


def model_run_in_use(project) -> ModelRun | None:
    return model_runs_by_use(project).first()


def _current_labels(project, labels: list[str]) -> dict[int, int]:
    """{item id: code of its aggregate label} from the current run, live items only."""
    run = aggregation_run_current(project)
    if run is None:
        return {}
    code = {lab: j for j, lab in enumerate(labels)}
    rows = ItemResult.objects.filter(run=run, item__is_gold=False).values_list("item_id", "label")
    return {pk: code[lab] for pk, lab in rows.iterator(chunk_size=10_000) if lab in code}


@dataclass(frozen=True)
class TrainingSet:
    """examples: what the kind's learner reads of each item (Kind.model_example)."""

    item_ids: list = field(default_factory=list)
    examples: list = field(default_factory=list)
    y: np.ndarray | None = None
    error: str = ""
    # Predicted, never learned from: silent gold and live items without an aggregate label.
    extra_ids: list = field(default_factory=list)
    extra_examples: list = field(default_factory=list)


def training_set(project, labels: list[str]) -> TrainingSet:
    """The items with a current aggregate label, what the model reads of them and their label
    codes, in id order. Whether the labels are varied enough is the learner's to say: a
    preference learner can learn from a project whose aggregate is always "A"."""
    by_item = _current_labels(project, labels)
    if len(by_item) < 2:
        return TrainingSet(error="needs a finished aggregation run with labels on 2 items or more")
    ids = sorted(by_item)
    data = dict(Item.objects.filter(pk__in=ids).values_list("pk", "data"))
    y = np.array([by_item[pk] for pk in ids], dtype=np.int64)
    example = kinds.get(project.kind).model_example
    # The silent gold (model suggestions need a label for every one, or they would mark the
    # gold: modelruns.suggestions) and the live items no run has labelled yet (uncertainty-
    # first orders those by the model's uncertainty).
    extra = (
        Item.objects.filter(project=project)
        .filter(Q(is_gold=False) | Q(gold__pool=GoldItem.Pool.INJECTION))
        .exclude(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "data")
    )
    extra_ids, extra_examples = [], []
    for pk, item_data in extra.iterator(chunk_size=10_000):
        extra_ids.append(pk)
        extra_examples.append(example(item_data))
    return TrainingSet(
        item_ids=ids,
        examples=[example(data[pk]) for pk in ids],
        y=y,
        extra_ids=extra_ids,
        extra_examples=extra_examples,
    )


@dataclass(frozen=True)
class SuspectTable:
    """The scored items of one model run, most suspect first. item_ids, score, reasons (per
    row a list of names), given / model (label codes), model_prob: aligned, in rank order."""

    run: ModelRun | None
    labels: list
    item_ids: np.ndarray
    score: np.ndarray
    given: np.ndarray
    model: np.ndarray
    model_prob: np.ndarray
    reasons: list
    reason_counts: dict
    data_map: numeric.DataMap | None = None
    correct: np.ndarray | None = None
    note: str = ""


def _empty(run, labels, note) -> SuspectTable:
    z = np.zeros(0)
    return SuspectTable(run, labels, z.astype(np.int64), z, z, z, z, [], {}, note=note)


# How long a computed suspects table is kept. Its key names the model run and the
# aggregation run it was scored against, so a new run of either computes it again.
SUSPECTS_CACHE_SECONDS = 3600


def suspects_for_project(project) -> SuspectTable:
    """Score every item of the model run in use that has a current aggregate label.

    The consensus of raters plus model (quality.numeric.model_consensus) comes from the live
    votes; training dynamics join when the run has epochs (quality.numeric.model_run_suspects,
    which bench/model_loop.py --rte calls too). The table is kept in the cache per (model
    run, aggregation run): the pages, filters and exports after the first read it instead of
    scoring every item again. Votes that came in since the aggregation run count from the
    next one, as the aggregate labels themselves do.
    """
    run = model_run_in_use(project)
    if run is None:
        return _empty(None, [], "No model run yet: upload one or run Vox's noisy cross-validation.")
    labels = list(run.labels)
    if labels != kinds.get(project.kind).aggregate_labels(project.schema):
        return _empty(run, labels, "The schema's labels changed since this run: upload a new one.")
    aggregate = aggregation_run_current(project)
    if aggregate is None:
        return _suspects_compute(project, run, labels)
    # Finish times keep keys apart across databases whose ids start again (tests, restores).
    key = ":".join(
        str(x)
        for x in (
            "suspects",
            project.pk,
            run.pk,
            run.finished_at.timestamp() if run.finished_at else 0,
            aggregate.pk,
            aggregate.created_at.timestamp(),
        )
    )
    table = cache.get(key)
    if table is None:
        table = _suspects_compute(project, run, labels)
        cache.set(key, table, SUSPECTS_CACHE_SECONDS)
    return table


def _suspects_compute(project, run, labels) -> SuspectTable:
    by_item = _current_labels(project, labels)
    rows = ModelPrediction.objects.filter(run=run, item_id__in=list(by_item)).order_by("item_id")
    rows = list(rows.values_list("item_id", "probs", "epochs"))
    if not rows:
        return _empty(run, labels, "No item of this run has an aggregate label yet.")
    item_ids = np.array([r[0] for r in rows], dtype=np.int64)
    probs = np.asarray([r[1] for r in rows], dtype=np.float64)
    given = np.array([by_item[pk] for pk in item_ids], dtype=np.int64)
    epochs = None
    if run.n_epochs and all(r[2] is not None for r in rows):
        epochs = np.asarray([r[2] for r in rows], dtype=np.float64).transpose(1, 0, 2)
    result, dm = numeric.model_run_suspects(
        given,
        probs,
        epochs=epochs,
        consensus_posterior=_consensus(project, item_ids, probs, len(labels)),
    )
    order = result.order
    model = probs.argmax(axis=1)
    names = [n for n in REASONS if n in result.reasons]
    flags = np.stack([result.reasons[n] for n in names], axis=1) if names else None
    reasons = [
        [n for j, n in enumerate(names) if flags[i, j]] if flags is not None else [] for i in order
    ]
    return SuspectTable(
        run=run,
        labels=labels,
        item_ids=item_ids[order],
        score=result.score[order],
        given=given[order],
        model=model[order],
        model_prob=probs[order, model[order]],
        reasons=reasons,
        reason_counts={n: int(result.reasons[n].sum()) for n in names},
        data_map=dm,
        correct=(model == given) if dm is None else dm.correctness,
    )


def _consensus(project, item_ids: np.ndarray, probs: np.ndarray, k: int):
    """The raters-plus-model posterior over the run's items, or None without votes."""
    label_kind = kinds.get(project.kind)
    arrays = annotation_arrays(project)
    codes, _ = label_kind.categorical_codes(project.schema, arrays)
    if codes is None or arrays.n == 0:
        return None
    vote_item = arrays.item_ids[arrays.item_idx]
    pos = np.searchsorted(item_ids, vote_item)
    pos = np.minimum(pos, item_ids.size - 1)
    keep = (item_ids[pos] == vote_item) & (codes >= 0) & (codes < k)
    if not keep.any():
        return None
    return numeric.model_consensus(
        pos[keep], arrays.rater_idx[keep], codes[keep], probs, n_raters=arrays.rater_ids.size
    ).posterior


@dataclass(frozen=True)
class SuspectPage:
    rows: list
    number: int
    n_pages: int
    total: int


def suspect_page(project, table: SuspectTable, *, reason: str = "", page: int = 1) -> SuspectPage:
    """One page of PAGE_SIZE rows, optionally only the rows flagged with `reason`, each a dict
    with the item (its summary is escaped by the template), labels, probability, reasons."""
    idx = np.arange(table.item_ids.size)
    if reason:
        idx = np.array([i for i in idx if reason in table.reasons[i]], dtype=np.int64)
    total = int(idx.size)
    n_pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), n_pages)
    chosen = idx[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    items = Item.objects.in_bulk([int(table.item_ids[i]) for i in chosen])
    sent = relabel_status(project, list(items))
    rows = []
    for rank, i in enumerate(chosen, start=(page - 1) * PAGE_SIZE + 1):
        item = items.get(int(table.item_ids[i]))
        if item is None:
            continue
        rows.append(
            {
                "rank": rank,
                "item": item,
                "item_id": item.pk,
                "external_id": item.external_id,
                "preview": item.summary[:300],
                "score": float(table.score[i]),
                "label": table.labels[table.given[i]],
                "model_label": table.labels[table.model[i]],
                "model_prob": float(table.model_prob[i]),
                "reasons": table.reasons[i],
                "sent_back": sent.get(item.pk),
            }
        )
    return SuspectPage(rows=rows, number=page, n_pages=n_pages, total=total)


def data_map_names(table: SuspectTable) -> list[str]:
    """A tooltip per dot of the data map, "suspect #3 · item 812": the data map is in item-id
    order (the order its predictions were read), the table in suspect order."""
    rank = {int(pk): r for r, pk in enumerate(table.item_ids, start=1)}
    return [f"suspect #{rank[int(pk)]} · item {pk}" for pk in np.sort(table.item_ids)]


def relabel_status(project, item_ids: list[int]) -> dict[int, dict]:
    """{item id: {"open", "asked", "got"}} for the items a manager sent back for more labels:
    the latest request of each, open until its labels are in; `got` counts the labels since."""
    from quality.models import RelabelRequest

    out: dict[int, dict] = {}
    requests = (
        RelabelRequest.objects.filter(project=project, item_id__in=item_ids)
        .order_by("item_id", "-requested_at", "-pk")
        .values_list("item_id", "extra_labels", "n_done_then", "resolved_at", "item__n_done")
    )
    for item_id, asked, then, resolved_at, n_done in requests:
        if item_id not in out:  # the latest request of the item comes first
            got = min(max(n_done - then, 0), asked)
            out[item_id] = {"open": resolved_at is None, "asked": asked, "got": got}
    return out


def label_quality_by_item(project) -> dict[int, dict] | None:
    """{item id: {"score", "reasons", "model_run"}} from the model run in use, for exports:
    the suspects page's scores, so a file says which labels a model doubts. None without a
    model run that scored anything."""
    table = suspects_for_project(project)
    if table.run is None or not len(table.item_ids):
        return None
    return {
        int(pk): {"score": round(float(s), 4), "reasons": list(r), "model_run": table.run.pk}
        for pk, s, r in zip(table.item_ids, table.score, table.reasons, strict=True)
    }
