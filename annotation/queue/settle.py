"""Dynamic overlap on the submit path: after each answer, is the item done?

Projects with a confidence target (QualityPolicy.confidence_target) ask after every
submit, gold and live alike (two statements and a few microseconds of numpy), whether the
item has enough labels: the rule per kind is in aggregation.numeric.stopping. A settled
item takes no more claims; the background re-fit may reopen it (aggregation.services).
"""

from __future__ import annotations

import json

from django.db import connection

from aggregation.numeric.stopping import PRIOR_ACCURACY, categorical_stop, pairwise_stop
from annotation.models import CounterShard
from annotation.queue import sql
from config import rows
from tasks import kinds

# Gold answers before a rater's gold accuracy, rather than the run's estimate, is used.
GOLD_TRUSTED_AFTER = 5


def dynamic(policy) -> bool:
    return policy is not None and policy.confidence_target is not None


def _accuracy(gold_score_sum: float, gold_n: int, run_accuracy) -> float:
    from quality.selectors import trust_from_counts

    if gold_n >= GOLD_TRUSTED_AFTER:
        return trust_from_counts(gold_score_sum, gold_n).mean
    if run_accuracy is not None:
        return float(run_accuracy)
    if gold_n:
        return trust_from_counts(gold_score_sum, gold_n).mean
    return PRIOR_ACCURACY


def stop_for(project, policy, votes) -> object | None:
    """The kind's stop rule over (value, gold_score_sum, gold_n, run accuracy) rows; None
    for kinds without one (they keep the fixed overlap)."""
    label_kind = kinds.get(project.kind)
    rule = label_kind.stop_rule
    if rule is None:
        return None
    keys = [label_kind.distribution_keys(v[0]) for v in votes]
    acc = [_accuracy(s, n, r) for _, s, n, r in votes]
    bounds = {"n_min": policy.overlap_min, "n_max": project.overlap}
    if rule == "pairwise":
        choices = [k[0] if k else "tie" for k in keys]
        return pairwise_stop(choices, acc, level=policy.confidence_target, **bounds)
    labels = label_kind.aggregate_labels(project.schema)
    code = {label: i for i, label in enumerate(labels)}
    pairs = [(code[k[0]], a) for k, a in zip(keys, acc, strict=True) if k and k[0] in code]
    return categorical_stop(
        [c for c, _ in pairs],
        [a for _, a in pairs],
        max(len(labels), 2),
        target=policy.confidence_target,
        **bounds,
    )


def after_answer(seat, item_id: int, rater_id: int) -> bool:
    """Settle the item when its rule says it is done; True when it did."""
    project, policy = seat.project, seat.policy
    with connection.cursor() as cursor:
        rows.execute(cursor, sql.ITEM_VOTES, [item_id])
        # JSON comes back as text (Django turns psycopg2's decoding off, as SQLite has none).
        votes = [(json.loads(v) if isinstance(v, str) else v, *rest) for v, *rest in cursor]
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
