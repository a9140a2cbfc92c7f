"""Dynamic overlap on the submit path: after each answer, is the item done?

Projects with a confidence target (QualityPolicy.confidence_target) ask after every
submit, gold and live alike (two statements and some microseconds of numpy), whether the
item has enough labels. The rules are aggregation.numeric.overlap's, the ones
bench/overlap_replay.py measures: single choice by the item's posterior, pairwise by the
interval for P(A beats B), Likert by the width of the interval of the mean. A settled item
takes no more claims; the background re-fit may reopen it (aggregation.services).
"""

from __future__ import annotations

import json

import numpy as np
from django.db import connection

from aggregation.numeric import overlap
from annotation.models import CounterShard
from annotation.queue import sql
from config import rows
from tasks import kinds

PAIRWISE_CODES = {"A": 0, "B": 1}  # anything else (tie, both bad) is a tie, code 2
# A run's accuracy of a rater counts as this many answers' worth of evidence against the
# prior: raw Dawid-Skene makes a rater right on three items look perfect, and on the
# submit path such a rater would close items alone (docs/aggregation.md).
RUN_SHRINK = overlap.STOP_STRENGTH


def dynamic(policy) -> bool:
    return policy is not None and policy.confidence_target is not None


def first_wave(project, policy) -> int:
    """How many raters the claim sends to an item at once before its votes are in: with
    dynamic overlap its minimum, then one at a time as votes arrive (the claim serves an
    item while `n_open < max(first_wave - n_done, 1)`), so raters working side by side do
    not all take the same item up to the maximum before the stop rule has seen a vote.
    Otherwise the overlap, which leaves the claim as it was."""
    if dynamic(policy) and kinds.get(project.kind).stop_rule is not None:
        return min(policy.overlap_min, project.overlap)
    return project.overlap


def _accuracies(votes, prior=0.7) -> np.ndarray:
    """Each vote's rater accuracy: the latest run's, else their gold trust, else the prior."""
    from quality.selectors import trust_from_counts

    run = np.array(
        [
            np.nan
            if r is None
            else (float(r) * (m or 0) + prior * RUN_SHRINK) / ((m or 0) + RUN_SHRINK)
            for _, _, _, r, m, *_ in votes
        ]
    )
    gold = np.array(
        [trust_from_counts(s, n).mean if n else np.nan for _, s, n, *_ in votes], dtype=float
    )
    return overlap.vote_accuracy(len(votes), accuracy=run, gold_accuracy=gold, prior_accuracy=prior)


def _stop_confusion(votes, n_labels: int):
    """(n_votes, K, K) each rater's stop-rule confusion matrix from their latest rater
    score (aggregation.numeric.overlap.rater_confusion, shrunk towards the crowd), NaN where
    there is none or it has another shape."""
    out = np.full((len(votes), n_labels, n_labels), np.nan)
    for j, v in enumerate(votes):
        c = v[5] if len(v) > 5 else None
        if isinstance(c, str):
            c = json.loads(c)
        c = np.asarray(c if c is not None else [], dtype=float)
        if c.shape == (n_labels, n_labels):
            out[j] = c
    return out


def stop_for(project, policy, votes):
    """The kind's stop rule over (value, gold_score_sum, gold_n, run accuracy, run's number
    of answers[, stop-rule confusion matrix]) rows, a StopDecision; None for kinds without
    one (they keep the fixed overlap)."""
    label_kind = kinds.get(project.kind)
    rule = label_kind.stop_rule
    if rule is None:
        return None
    bounds = {"min_raters": policy.overlap_min, "max_raters": project.overlap}
    keys = [label_kind.agreement_key(v[0]) for v in votes]
    kept = [i for i, k in enumerate(keys) if k is not None]
    acc = _accuracies([votes[i] for i in kept])
    keys = [keys[i] for i in kept]
    if rule == "pairwise":
        choice = [PAIRWISE_CODES.get(k, overlap.TIE) for k in keys]
        return overlap.pairwise_stop(
            choice, overlap.vote_weight(acc), level=policy.confidence_target, **bounds
        )
    if rule == "likert":
        scale = label_kind.rating_scale(project.schema) or 5
        rating = np.clip(np.asarray(keys, dtype=np.int64) - 1, 0, scale - 1)
        return overlap.likert_stop(
            rating,
            acc,
            n_levels=scale,
            max_width=policy.likert_width,
            level=policy.confidence_target,
            **bounds,
        )
    labels = label_kind.aggregate_labels(project.schema)
    code = {json.dumps(label, sort_keys=True): i for i, label in enumerate(labels)}
    # Single choice reads the same rater quality bench/overlap_replay.py measures: the latest
    # rater score's confusion matrix, shrunk towards the crowd's (rater_confusion), else the
    # run's accuracy shrunk by its number of answers, else gold trust, else the prior.
    voted = [j for j, k in enumerate(keys) if k in code]
    rows_ = [votes[kept[j]] for j in voted]
    acc = _accuracies(rows_, prior=overlap.STOP_PRIOR_ACCURACY)
    confusion = overlap.one_coin_confusion(acc, len(labels))
    known = _stop_confusion(rows_, len(labels))
    have = np.isfinite(known).all(axis=(1, 2))
    confusion[have] = known[have]
    return overlap.categorical_stop(
        np.array([code[keys[j]] for j in voted], dtype=np.int64),
        confusion,
        target=policy.confidence_target,
        **bounds,
    )


def item_votes(cursor, item_id: int) -> list[tuple]:
    """The item's answers as stop_for reads them: (value, gold_score_sum, gold_n, run
    accuracy, run's number of answers, stop-rule confusion matrix) per vote, in one
    statement."""
    rows.execute(cursor, sql.ITEM_VOTES, [item_id])
    # JSON comes back as text (Django turns psycopg2's decoding off, as SQLite has none).
    return [(json.loads(v) if isinstance(v, str) else v, *rest) for v, *rest in cursor]


def after_answer(seat, item_id: int, rater_id: int) -> bool:
    """Settle the item when its rule says it is done; True when it did."""
    project, policy = seat.project, seat.policy
    with connection.cursor() as cursor:
        votes = item_votes(cursor, item_id)
        stop = stop_for(project, policy, votes)
        if stop is None or not stop.done:
            return False
        shard = rater_id % CounterShard.SHARDS
        if connection.vendor == "postgresql":
            rows.execute(cursor, sql.SETTLE, [item_id, project.overlap, shard])
            return True
        rows.execute(cursor, sql.SETTLE, [item_id, project.overlap])
        if cursor.rowcount:
            from django.db.models import F

            shard_row, _ = CounterShard.objects.get_or_create(project=project, shard=shard)
            CounterShard.objects.filter(pk=shard_row.pk).update(n_complete=F("n_complete") + 1)
        return True


def reopen(project, item_ids) -> int:
    """Reopen, up to the overlap, the settled items among `item_ids` that a background
    re-fit finds unsure; returns how many. They stop counting as complete until they settle
    again: through a counter shard, as their settling was counted, so the fold stays right."""
    from django.db.models import F

    from tasks.models import Item

    reopened = Item.objects.filter(
        project=project, settled=True, pk__in=list(item_ids), n_done__lt=project.overlap
    ).update(settled=False)
    if reopened:
        shard, _ = CounterShard.objects.get_or_create(project=project, shard=0)
        CounterShard.objects.filter(pk=shard.pk).update(n_complete=F("n_complete") - reopened)
    return reopened


def reopen_unsure_categorical(project, policy, item_ids, item_idx, label, confusion) -> int:
    """The background half of the single-choice rule: with each rater's new stop-rule
    matrix (`confusion`, one (K, K) per vote), the items `categorical_done` no longer calls
    done are reopened, the re-fit bench/overlap_replay.py measures. Votes: ``item_idx`` into
    ``item_ids``, ``label`` codes."""
    if not dynamic(policy) or not len(item_ids):
        return 0
    n_items = len(item_ids)
    posterior = overlap.categorical_posterior(item_idx, label, confusion, n_items=n_items)
    done = overlap.categorical_done(
        posterior,
        np.bincount(item_idx, minlength=n_items),
        min_raters=policy.overlap_min,
        max_raters=project.overlap,
        target=policy.confidence_target,
    )
    return reopen(project, [int(item_ids[i]) for i in np.flatnonzero(~done)])
