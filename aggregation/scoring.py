"""Rater scoring: a time-stamped snapshot per rater per project of every measured signal.

Dashboards and the trust rules read the snapshots (aggregation.selectors.rater_scores_latest);
this module only measures. Gold items never enter the label arrays (aggregation.loading);
gold accuracy comes from the live gold counts the quality layer keeps on Membership.
"""

from __future__ import annotations

import numpy as np
from django.db import transaction
from django.utils import timezone

from aggregation import numeric
from aggregation.loading import MISSING, annotation_arrays
from aggregation.models import ItemResult, RaterScore
from aggregation.selectors import aggregation_run_current, project_is_subjective
from quality.numeric import (
    cohen_kappa_matrix,
    ordinal_rater_figures,
    position_bias_test,
    ranking_rater_figures,
    trust_posterior,
)
from raters.models import Membership
from tasks import kinds
from tasks.models import Project

DEFAULT_MIN_SECONDS = 2.0
FIELDS = ("id", "item_id", "rater_id", "duration_ms", "active_ms")


def _f(x):
    return None if x is None or not np.isfinite(x) else float(x)


def _min_seconds(project) -> float:
    # The quality policy is optional; without one the default floor applies.
    policy = getattr(project, "quality", None)
    return float(policy.min_seconds_per_item) if policy is not None else DEFAULT_MIN_SECONDS


def _streaks(rater_idx, order_key, answer, n_raters):
    """Longest run of identical consecutive answers per rater, and the modal answer share."""
    order = np.lexsort((order_key, rater_idx))
    r, a = rater_idx[order], answer[order]
    n = r.size
    if n == 0:
        return np.zeros(n_raters, np.int64), np.full(n_raters, np.nan)
    new = np.r_[True, (r[1:] != r[:-1]) | (a[1:] != a[:-1])]
    run_id = np.cumsum(new) - 1
    run_len = np.bincount(run_id)
    run_rater = r[new]
    longest = np.zeros(n_raters, np.int64)
    np.maximum.at(longest, run_rater, run_len)
    _, a_code = np.unique(a, return_inverse=True)
    k = int(a_code.max()) + 1
    counts = np.bincount(r * k + a_code, minlength=n_raters * k).reshape(n_raters, k)
    total = counts.sum(axis=1)
    modal = np.divide(counts.max(axis=1), total, out=np.full(n_raters, np.nan), where=total > 0)
    return longest, modal


def _median_by(rater_idx, values, n_raters):
    out = np.full(n_raters, np.nan)
    if values.size == 0:
        return out
    order = np.lexsort((values, rater_idx))
    r, v = rater_idx[order], values[order]
    bounds = np.searchsorted(r, np.arange(n_raters + 1))
    for k in range(n_raters):
        lo, hi = bounds[k], bounds[k + 1]
        if hi > lo:
            out[k] = np.median(v[lo:hi])
    return out


def _rating_figures(label_kind, schema, arrays, results: dict, rater_idx, n_r, scale):
    """Ratings against the final ratings, every rated column pooled: (closeness, ordinal
    confusion per rater as nested lists, quadratic-weighted kappa). The final rating is
    rounded to the nearest point to be a row of the confusion."""
    where = {int(i): j for j, i in enumerate(arrays.item_ids)}
    reference: dict[str, np.ndarray] = {}
    for item_id, label in results.items():
        if item_id not in where:
            continue
        for column, x in label_kind.rating_reference(schema, label).items():
            ref = reference.setdefault(column, np.full(arrays.item_ids.size, -1, np.int64))
            ref[where[item_id]] = int(np.clip(np.rint(x), 1, scale)) - 1
    raters, given, final = [], [], []
    for column, ref in reference.items():
        if column not in arrays.columns:
            continue
        col, against = arrays[column], ref[arrays.item_idx]
        ok = (col >= 1) & (col <= scale) & (against >= 0)
        raters.append(rater_idx[ok])
        given.append(col[ok] - 1)
        final.append(against[ok])
    if not raters:
        return np.full(n_r, np.nan), [None] * n_r, np.full(n_r, np.nan)
    closeness, confusion, kappa = ordinal_rater_figures(
        np.concatenate(raters),
        np.concatenate(given),
        np.concatenate(final),
        n_raters=n_r,
        n_levels=scale,
    )
    seen = confusion.sum(axis=(1, 2)) > 0
    return closeness, [confusion[r].tolist() if seen[r] else None for r in range(n_r)], kappa


def _ranking_figures(label_kind, project, results: dict, rater_ids):
    """Rankings against the final order: (mean Kendall tau-b per rater, the confusion of
    places per rater as nested lists). Reads the answers themselves: a ranking has no
    label columns."""
    from aggregation.services import project_annotations_rows

    width = len(label_kind.ordinal_points(project.schema))
    owners, given, final = [], [], []
    for item_id, rater_id, value in project_annotations_rows(project):
        places = label_kind.rank_places(value, results.get(item_id))
        if places is None or len(places[0]) > width:
            continue
        pad = [-1] * (width - len(places[0]))
        owners.append(int(np.searchsorted(rater_ids, rater_id)))
        given.append(places[0] + pad)
        final.append(places[1] + pad)
    n_r = rater_ids.size
    if not owners:
        return np.full(n_r, np.nan), [None] * n_r
    tau, confusion = ranking_rater_figures(
        np.array(owners), np.array(given), np.array(final), n_raters=n_r, n_positions=width
    )
    seen = confusion.sum(axis=(1, 2)) > 0
    return tau, [confusion[r].tolist() if seen[r] else None for r in range(n_r)]


def _gold_votes(project, label_kind, rater_ids):
    """Every scored gold answer of the project's raters as votes: (gold index, rater index,
    said code) per answer and the true code per gold item, for gold with one accepted label.
    Qualification, training, calibration and silent answers all count: each was given before
    its feedback."""
    from quality.models import GoldResponse

    rows = GoldResponse.objects.filter(
        membership__project=project, membership__user_id__in=rater_ids.tolist()
    ).values_list("gold__item_id", "membership__user_id", "value", "gold__answer")
    index: dict[int, int] = {}
    truth: list[int] = []
    gi, gr, gl = [], [], []
    for item_id, user_id, value, answer in rows:
        codes = label_kind.gold_vote_codes(project.schema, answer, value)
        if codes is None:
            continue
        if item_id not in index:
            index[item_id] = len(truth)
            truth.append(codes[0])
        gi.append(index[item_id])
        gr.append(int(np.searchsorted(rater_ids, user_id)))
        gl.append(codes[1])
    as_int = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    return as_int(gi), as_int(gr), as_int(gl), as_int(truth)


def rater_scores_compute(*, project_id: int) -> int:
    """Measure every rater of the project and store one RaterScore each; returns how many."""
    project = Project.objects.get(pk=project_id)
    subjective = project_is_subjective(project)
    arrays = annotation_arrays(project, fields=FIELDS)
    members = list(
        Membership.objects.filter(project=project, role=Membership.Role.ANNOTATOR).values_list(
            "user_id", "gold_n", "gold_score_sum"
        )
    )
    # Raters are the annotators plus anyone with annotations (a removed member keeps history).
    rater_ids = np.union1d(arrays.rater_ids, np.array([m[0] for m in members], dtype=np.int64))
    n_r = rater_ids.size
    code = np.searchsorted(rater_ids, arrays.rater_ids)
    rater_idx = code[arrays.rater_idx] if arrays.n else np.zeros(0, np.int64)
    item_idx = arrays.item_idx
    n_items = arrays.item_ids.size

    # Gold accuracy: the trust posterior of live gold answers, by the one rule every door reads.
    gold_n = np.zeros(n_r)
    gold_sum = np.zeros(n_r)
    for user_id, n, s in members:
        k = int(np.searchsorted(rater_ids, user_id))
        gold_n[k], gold_sum[k] = n, s
    gold = trust_posterior(gold_sum, gold_n)

    n_ann = np.bincount(rater_idx, minlength=n_r)
    label_kind = kinds.get(project.kind)
    label, names = label_kind.categorical_codes(project.schema, arrays)
    agreement = np.full(n_r, np.nan)
    kappa = np.full(n_r, np.nan)
    confusion = [None] * n_r
    stop_confusion = [None] * n_r
    ds_acc = np.full(n_r, np.nan)
    mace_comp = np.full(n_r, np.nan)
    ordinal, ordinal_kappa, tau = [None] * n_r, np.full(n_r, np.nan), np.full(n_r, np.nan)
    run = aggregation_run_current(project)
    if label is not None:
        ok = label != MISSING
        li, lr, ll = item_idx[ok], rater_idx[ok], label[ok]
        k = len(names)
        if run is not None:
            pos = {n: j for j, n in enumerate(names)}
            agg = np.full(n_items, -1)
            where = {int(i): j for j, i in enumerate(arrays.item_ids)}
            for item_id, value in ItemResult.objects.filter(run=run).values_list(
                "item_id", "label"
            ):
                if item_id in where and value in pos:
                    agg[where[item_id]] = pos[value]
            has = agg[li] >= 0
            hits = np.bincount(lr[has], weights=(agg[li[has]] == ll[has]), minlength=n_r)
            seen = np.bincount(lr[has], minlength=n_r)
            agreement = np.divide(hits, seen, out=np.full(n_r, np.nan), where=seen > 0)
        if ll.size:
            km = cohen_kappa_matrix(li, lr, ll, n_raters=n_r, min_shared=5)
            with np.errstate(all="ignore"):
                counted = np.sum(np.isfinite(km), axis=1)
                kappa = np.where(
                    counted > 0, np.nansum(km, axis=1) / np.maximum(counted, 1), np.nan
                )
            shape = {"n_items": n_items, "n_raters": n_r, "n_labels": k}
            ds = numeric.dawid_skene(li, lr, ll, **shape)
            mc = numeric.mace(li, lr, ll, n_restarts=3, **shape)
            voted = n_ann > 0
            ds_acc = np.where(voted, ds.competence, np.nan)
            mace_comp = np.where(voted, mc.competence, np.nan)
            confusion = [
                np.round(ds.confusion[r], 4).tolist() if voted[r] else None for r in range(n_r)
            ]
            # Every rater, with votes or not, gets the stop rule's matrix: one without votes
            # gets the crowd's. Gold answers join it, scored against the known answer, so the
            # matrix carries both the run's quality and the trust earned on gold.
            gi, gr, gl, truth = _gold_votes(project, label_kind, rater_ids)
            n_gold = truth.size
            stop = numeric.rater_confusion(
                np.concatenate([li, n_items + gi]),
                np.concatenate([lr, gr]),
                np.concatenate([ll, gl]),
                np.vstack([ds.posterior, np.eye(k)[truth]]),
                n_raters=n_r,
                confusion=ds.confusion,
                known=np.r_[np.zeros(n_items, bool), np.ones(n_gold, bool)],
            )
            stop_confusion = [np.round(stop[r], 4).tolist() for r in range(n_r)]
            # Dynamic overlap's re-fit: reopen the settled items these matrices make unsure.
            from annotation.queue import settle
            from quality.selectors import policy_for

            settle.reopen_unsure_categorical(
                project, policy_for(project), arrays.item_ids, li, ll, stop[lr]
            )
    elif run is not None:

        def results():
            return dict(ItemResult.objects.filter(run=run).values_list("item_id", "label"))

        partial = label_kind.partial_agreement(project.schema, arrays, results, rater_idx, n_r)
        if partial is not None:
            agreement = partial
        scale = label_kind.rating_scale(project.schema)
        if scale is not None:
            agreement, ordinal, ordinal_kappa = _rating_figures(
                label_kind, project.schema, arrays, results(), rater_idx, n_r, scale
            )
        elif label_kind.ordinal_figure is not None:
            tau, ordinal = _ranking_figures(label_kind, project, results(), rater_ids)
            agreement = (tau + 1.0) / 2.0

    # Speed: server-side duration and client-reported active time.
    duration = arrays["duration_ms"].astype(np.float64)
    active = arrays["active_ms"].astype(np.float64)
    med_duration = _median_by(rater_idx, duration, n_r)
    has_active = active >= 0
    med_active = _median_by(rater_idx[has_active], active[has_active], n_r)
    spent = np.where(has_active, active, duration)
    fast = spent < _min_seconds(project) * 1000.0
    fast_frac = np.divide(
        np.bincount(rater_idx, weights=fast, minlength=n_r),
        n_ann,
        out=np.full(n_r, np.nan),
        where=n_ann > 0,
    )

    streak, modal = _streaks(
        rater_idx, arrays["id"], label_kind.answer_keys(project.schema, arrays), n_r
    )

    sides = label_kind.side_counts(arrays, rater_idx, n_r)
    pos_left, pos_right = sides if sides is not None else (None, None)

    now = timezone.now()
    rows = []
    for r in range(n_r):
        bias = position_bias_test(pos_left[r], pos_right[r]) if pos_left is not None else None
        rows.append(
            RaterScore(
                project=project,
                rater_id=int(rater_ids[r]),
                computed_at=now,
                run=run,
                n_annotations=int(n_ann[r]),
                gold_n=int(gold_n[r]),
                gold_accuracy_mean=_f(gold.mean[r]) if gold_n[r] > 0 else None,
                gold_accuracy_lower=_f(gold.lower[r]) if gold_n[r] > 0 else None,
                agreement_with_aggregate=_f(agreement[r]),
                kappa_mean=_f(kappa[r]),
                agreement_penalises=not subjective,
                ds_confusion=confusion[r],
                stop_confusion=stop_confusion[r],
                ds_accuracy=_f(ds_acc[r]),
                mace_competence=_f(mace_comp[r]),
                ordinal_confusion=ordinal[r],
                ordinal_kappa=_f(ordinal_kappa[r]),
                ranking_tau=_f(tau[r]),
                duration_ms_median=_f(med_duration[r]),
                active_ms_median=_f(med_active[r]),
                fast_fraction=_f(fast_frac[r]),
                straightline_streak=int(streak[r]) if n_ann[r] else None,
                modal_share=_f(modal[r]),
                position_left=None if bias is None else bias.n_left,
                position_right=None if bias is None else bias.n_right,
                position_share_left=None if bias is None else _f(bias.share_left),
                position_p_value=None if bias is None else _f(bias.p_value),
            )
        )
    with transaction.atomic():
        RaterScore.objects.bulk_create(rows)
    return len(rows)
