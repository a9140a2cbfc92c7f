"""Dynamic overlap: stop asking for labels when an item is decided, and serve the unsure first.

Two jobs, both pure functions the server calls with integer codes and floats:

* **The stop rule**, on the submit path: given one item's votes so far and each voter's quality,
  is the item done? One function per kind of label (:func:`categorical_stop`,
  :func:`pairwise_stop`, :func:`likert_stop`) behind one dispatch (:func:`stop_rule`); each
  returns a :class:`StopDecision`. Every rule obeys the same two bounds: below ``min_raters``
  an item is never done, and at ``max_raters`` it is always done.
* **Queue order**: an uncertainty score per item (:func:`categorical_uncertainty`,
  :func:`pairwise_uncertainty`) and :func:`queue_priority`, which folds "unlabelled first, then
  most uncertain, then oldest" into one sortable integer that a single UPDATE can store.

Rater quality comes in per vote and is resolved by :func:`vote_accuracy` and
:func:`vote_confusion` in a fixed order: the current aggregation run (a confusion matrix or a
one-coin accuracy), else the rater's gold accuracy, else a prior. :func:`rater_confusion`
turns a run's posterior into confusion matrices shrunk towards the crowd's pooled matrix, so a
rater seen on three items cannot decide an item alone.

The idea of asking for another label only while the aggregate is unsure is old: Sheng, Provost
and Ipeirotis (2008), "Get another label? Improving data quality and data mining using multiple,
noisy labelers", KDD; Ipeirotis et al. (2014), "Repeated labeling using multiple noisy
labelers", Data Mining and Knowledge Discovery 28(2):402–441 (uncertainty-first relabelling);
Welinder and Perona (2010), "Online crowdsourcing: rating annotators and obtaining
cost-effective labels", CVPR workshops (stop once the posterior of the label is confident,
with rater models re-estimated on the fly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv, stdtrit

from .pairwise import LEFT, RIGHT, TIE

# A probability this small stands for "never": it keeps the logs finite without letting one
# vote from a rater with an extreme confusion cell outweigh any number of other votes.
_FLOOR = 1e-6


@dataclass(frozen=True)
class StopDecision:
    """What the stop rule says about one item.

    done: whether to stop collecting labels; reason: why: "min_raters" (not done: too few
    votes) and "max_raters" for every kind, else categorical "confident" or "unsure", pairwise
    "preference", "ties" or "unsure", Likert "narrow" or "wide"; n_votes: votes on the item.
    posterior: categorical (n_labels,) posterior over the true label; pairwise (3,) weighted
    shares of A, B and tie; Likert (n_levels,) weighted share of each level.
    estimate: categorical the posterior's maximum, pairwise the posterior mean of P(A > B),
    Likert the weighted mean rating (code units). interval: (low, high) of P(A > B) or of the
    mean rating; None for categorical items.
    """

    done: bool
    reason: str
    n_votes: int
    posterior: np.ndarray
    estimate: float
    interval: tuple[float, float] | None = None


def _check_bounds(min_raters: int, max_raters: int) -> None:
    if min_raters < 1 or max_raters < min_raters:
        raise ValueError(f"need 1 <= min_raters <= max_raters, got {min_raters}, {max_raters}")


def _bounded(n_votes: int, min_raters: int, max_raters: int) -> str | None:
    """The rule every kind shares: max stops regardless, min holds regardless."""
    if n_votes >= max_raters:
        return "max_raters"
    if n_votes < min_raters:
        return "min_raters"
    return None


# -- rater quality ------------------------------------------------------------------------------


def vote_accuracy(n_votes: int, *, accuracy=None, gold_accuracy=None, prior_accuracy=0.7):
    """(n_votes,) accuracy of each vote's rater, from the best source that knows them.

    ``accuracy``: (n_votes,) from the current aggregation run (e.g. a one-coin Dawid–Skene
    competence), NaN for raters the run did not see; ``gold_accuracy``: (n_votes,) e.g. the mean
    of the rater's trust posterior, NaN without gold answers; ``prior_accuracy``: the figure for
    everybody else. The first finite value wins, in that order.
    """
    out = np.full(n_votes, float(prior_accuracy))
    for source in (gold_accuracy, accuracy):  # later sources overwrite: the run wins
        if source is not None:
            s = np.asarray(source, dtype=np.float64)
            if s.shape != (n_votes,):
                raise ValueError(f"accuracies must have shape ({n_votes},), got {s.shape}")
            known = np.isfinite(s)
            out[known] = s[known]
    return np.clip(out, _FLOOR, 1.0 - _FLOOR)


def one_coin_confusion(accuracy, n_labels: int) -> np.ndarray:
    """(n, K, K) confusion matrices of one-coin raters: ``accuracy`` (n,) on the diagonal and
    the rest spread evenly over the wrong labels (Dawid and Skene 1979, one parameter per rater)."""
    a = np.asarray(accuracy, dtype=np.float64)[:, None, None]
    eye = np.eye(n_labels)
    off = (1.0 - a) / max(n_labels - 1, 1)
    return a * eye + off * (1.0 - eye)


def vote_confusion(
    n_votes: int,
    n_labels: int,
    *,
    confusion=None,
    accuracy=None,
    gold_accuracy=None,
    prior_accuracy=0.7,
) -> np.ndarray:
    """(n_votes, K, K) confusion matrix for each vote, ``[v, k, l]`` = P(says l | true k).

    ``confusion``: (n_votes, K, K) from the current run, NaN where the run did not see the rater;
    the others fall back to :func:`vote_accuracy` (run accuracy, gold accuracy, prior) as
    one-coin matrices.
    """
    acc = vote_accuracy(
        n_votes, accuracy=accuracy, gold_accuracy=gold_accuracy, prior_accuracy=prior_accuracy
    )
    out = one_coin_confusion(acc, n_labels)
    if confusion is not None:
        c = np.asarray(confusion, dtype=np.float64)
        if c.shape != (n_votes, n_labels, n_labels):
            raise ValueError(
                f"confusion must have shape ({n_votes}, {n_labels}, {n_labels}), got {c.shape}"
            )
        known = np.isfinite(c).all(axis=(1, 2))
        out[known] = c[known]
    return out


# Defaults of the stop rule's rater quality, shared by the server (annotation.queue.settle,
# aggregation.scoring) and bench/overlap_replay.py so that the bench measures what runs.
STOP_PRIOR_ACCURACY = 0.8
STOP_STRENGTH = 8.0


def rater_confusion(
    item_idx,
    rater_idx,
    label,
    posterior,
    *,
    n_raters,
    confusion=None,
    known=None,
    prior_accuracy=STOP_PRIOR_ACCURACY,
    strength=STOP_STRENGTH,
    towards="crowd",
) -> np.ndarray:
    """(n_raters, K, K) confusion matrices from a run's posterior, shrunk towards a prior.

    The Dawid–Skene M-step (expected counts of "true k, said l" from ``posterior``
    (n_items, K)) with a Dirichlet prior of ``strength`` pseudo-votes per row. The run's own
    pseudo-count (0.01) is meant to avoid 0/0, not to stop a rater right on three items from
    looking perfect; on the submit path such a rater would decide an item alone, so the stop
    rule gets these instead.

    ``towards="crowd"`` (the default) spreads the pseudo-votes as the crowd's pooled
    confusion matrix (every rater's counts summed, itself shrunk by ``strength`` pseudo-votes
    towards a one-coin rater of ``prior_accuracy``): a hierarchical prior, as in
    community-based Bayesian aggregation (Venanzi et al. 2014, WWW). A rater with little
    record then looks like the crowd they work in, not like a fixed 0.8 rater whose errors are
    spread evenly over the wrong labels: on a poor crowd two agreeing newcomers no longer
    close an item, and with several classes the errors raters share (two similar dog breeds)
    keep their weight. A rater with no votes gets the crowd's matrix. ``towards="prior"``
    shrinks towards the one-coin rater directly.

    With the run's ``confusion`` (n_raters, K, K), each vote is credited against its item's
    posterior *without that vote* (its own likelihood factor divided out, which under the
    model is exactly the posterior given the other votes), so raters are not rewarded for
    agreeing with themselves; that self-credit is what makes raters on items with two or three
    votes look better than they are. Votes alone on their item then say nothing about the
    rater, and are left out.

    ``known`` (n_items,) bool marks rows of ``posterior`` that are known answers (gold items,
    one-hot): their votes are credited against the answer as it is, alone or not, so trust
    earned on gold and quality seen in the run land in one matrix.
    Votes: ``item_idx``, ``rater_idx``, ``label`` (n_votes,) int codes.
    """
    if towards not in ("crowd", "prior"):
        raise ValueError(f"towards must be 'crowd' or 'prior', got {towards!r}")
    post = np.asarray(posterior, dtype=np.float64)
    k = post.shape[1]
    item = np.asarray(item_idx, dtype=np.int64)
    rater = np.asarray(rater_idx, dtype=np.int64)
    lab = np.asarray(label, dtype=np.int64)
    credit = post[item]
    if confusion is not None and item.size:
        own = np.maximum(np.asarray(confusion, float)[rater, :, lab], _FLOOR)
        credit = np.log(np.maximum(credit, 1e-300)) - np.log(own)
        credit = np.exp(credit - credit.max(axis=1, keepdims=True))
        credit /= credit.sum(axis=1, keepdims=True)
        alone = np.bincount(item, minlength=post.shape[0])[item] == 1
        credit[alone] = 0.0
    if known is not None and item.size:
        gold = np.asarray(known, dtype=bool)[item]
        credit[gold] = post[item[gold]]
    counts = np.empty((n_raters * k, k))
    cell = rater * k + lab  # counts[r, l, true k] flattened on (r, l)
    for j in range(k):
        counts[:, j] = np.bincount(cell, weights=credit[:, j], minlength=n_raters * k)
    counts = counts.reshape(n_raters, k, k).transpose(0, 2, 1)  # -> [r, true k, said l]
    prior = strength * one_coin_confusion(np.array([prior_accuracy]), k)[0]
    if towards == "crowd":
        pooled = counts.sum(axis=0) + prior
        prior = strength * pooled / pooled.sum(axis=1, keepdims=True)
    counts = counts + prior
    return counts / counts.sum(axis=2, keepdims=True)


# -- categorical --------------------------------------------------------------------------------


def categorical_posterior(item_idx, label, confusion, *, n_items, class_prior=None) -> np.ndarray:
    """(n_items, K) posterior over each item's true label given its votes and their raters.

    Bayes' rule with conditionally independent raters, the E-step of Dawid and Skene (1979):
    ``P(true k | votes) ∝ prior[k] * prod_v confusion[v, k, label[v]]``. ``confusion``
    (n_votes, K, K) is per vote (see :func:`vote_confusion`); ``class_prior`` (K,) defaults to
    uniform. Items without votes get the class prior.
    """
    conf = np.asarray(confusion, dtype=np.float64)
    k = conf.shape[1]
    lab = np.asarray(label, dtype=np.int64)
    item = np.asarray(item_idx, dtype=np.int64)
    prior = np.full(k, 1.0 / k) if class_prior is None else np.asarray(class_prior, float)
    # One column of each vote's matrix: P(this vote | true k) for every k.
    loglik = np.log(np.maximum(conf[np.arange(lab.size), :, lab], _FLOOR))
    scores = np.empty((n_items, k))
    for j in range(k):
        scores[:, j] = np.bincount(item, weights=loglik[:, j], minlength=n_items)
    scores += np.log(np.maximum(prior, _FLOOR))
    scores -= scores.max(axis=1, keepdims=True)
    p = np.exp(scores)
    return p / p.sum(axis=1, keepdims=True)


def categorical_done(posterior, n_votes, *, min_raters=2, max_raters=10, target=0.9):
    """(n_items,) bool: the categorical stop rule on many items at once.

    Done when ``n_votes >= max_raters``, or when ``n_votes >= min_raters`` and the posterior's
    largest entry reaches ``target``. posterior (n_items, K), n_votes (n_items,).
    """
    _check_bounds(min_raters, max_raters)
    n = np.asarray(n_votes)
    top = np.asarray(posterior).max(axis=1)
    return (n >= max_raters) | ((n >= min_raters) & (top >= target))


def categorical_stop(
    label, confusion, *, class_prior=None, min_raters=2, max_raters=10, target=0.9
) -> StopDecision:
    """Stop rule for one categorical item (classification, multi-class).

    label: (n_votes,) int codes of the item's votes; confusion: (n_votes, K, K) the raters'
    confusion matrices (:func:`vote_confusion` resolves run, gold and prior); class_prior (K,).
    The posterior is :func:`categorical_posterior`; the item is done at ``max_raters`` votes, or
    from ``min_raters`` votes once ``max posterior >= target``. A spammer's confusion matrix
    has equal rows, so their votes leave the posterior where it was and never stop an item.
    This is the stopping criterion of Welinder and Perona (2010): label until the posterior
    risk of the item falls below a threshold.
    """
    lab = np.asarray(label, dtype=np.int64)
    n = int(lab.size)
    _check_bounds(min_raters, max_raters)
    conf = np.asarray(confusion, dtype=np.float64)
    # Summing n small log-columns directly is several times cheaper than the bincount of the
    # many-item path, and this runs on every submit.
    k = conf.shape[1]
    prior = np.full(k, 1.0 / k) if class_prior is None else np.asarray(class_prior, float)
    score = np.log(np.maximum(prior, _FLOOR))
    if n:
        score = score + np.log(np.maximum(conf[np.arange(n), :, lab], _FLOOR)).sum(axis=0)
    p = np.exp(score - score.max())
    p /= p.sum()
    top = float(p.max())
    reason = _bounded(n, min_raters, max_raters)
    if reason is None:
        reason = "confident" if top >= target else "unsure"
    return StopDecision(
        done=reason in ("max_raters", "confident"),
        reason=reason,
        n_votes=n,
        posterior=p,
        estimate=top,
    )


# -- pairwise -----------------------------------------------------------------------------------


def vote_weight(accuracy) -> np.ndarray:
    """Weight of a pairwise vote from its rater's accuracy p on A-versus-B: ``2p - 1``, clipped
    to [0, 1]. A coin-flipper counts 0 and a perfect rater 1: the first-order term of the
    optimal log-odds weight log(p / (1 - p)) (Nitzan and Paroush 1982) near p = 1/2, and the
    rater reliability of Karger, Oh and Shah (2011), "Iterative learning for reliable
    crowdsourcing systems", NIPS."""
    return np.clip(2.0 * np.asarray(accuracy, dtype=np.float64) - 1.0, 0.0, 1.0)


def beta_interval(alpha, beta, level=0.9) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed ``level`` credible interval of Beta(alpha, beta); arrays broadcast."""
    tail = (1.0 - level) / 2.0
    return betaincinv(alpha, beta, tail), betaincinv(alpha, beta, 1.0 - tail)


def pairwise_counts(choice, weight=None, strength=None) -> np.ndarray:
    """(3,) weighted votes for A, B and tie on one comparison (codes of :mod:`.pairwise`)."""
    c = np.asarray(choice, dtype=np.int64)
    w = np.ones(c.size) if weight is None else np.asarray(weight, dtype=np.float64)
    if strength is not None:
        w = w * np.asarray(strength, dtype=np.float64)
    if c.size and (c.min() < 0 or c.max() > TIE):
        raise ValueError("choice codes must be 0 (A), 1 (B) or 2 (tie)")
    return np.bincount(c, weights=w, minlength=3)[:3].astype(np.float64)


def pairwise_uncertainty(a_votes, b_votes, tie_votes=0.0, *, prior=1.0, level=0.9):
    """(n,) width of the ``level`` interval for P(A > B): 1 knows nothing, 0 is certain.

    The posterior is Beta(prior + A + T/2, prior + B + T/2) on the weighted wins A, B and ties
    T (a tie is half a win each way, as in Davidson's and Elo's scoring), so the width shrinks
    like 1/sqrt(votes) and faster when the votes agree. Arrays broadcast.
    """
    half = 0.5 * np.asarray(tie_votes, dtype=np.float64)
    lo, hi = beta_interval(
        prior + np.asarray(a_votes) + half, prior + np.asarray(b_votes) + half, level
    )
    return hi - lo


def pairwise_stop(
    choice,
    weight=None,
    *,
    strength=None,
    min_raters=2,
    max_raters=10,
    level=0.9,
    prior=1.0,
    tie_share=0.5,
) -> StopDecision:
    """Stop rule for one pairwise comparison (A, B or tie, optionally with a strength).

    choice: (n_votes,) 0 = A, 1 = B, 2 = tie; weight: (n_votes,) in [0, 1], the rater's
    reliability (:func:`vote_weight` of :func:`vote_accuracy`), 1 when None; strength:
    (n_votes,) optional multiplier, e.g. 0.5 for "slightly better" and 1 for "clearly better".
    The share of raters preferring A gets the posterior Beta(prior + A + T/2, prior + B + T/2)
    (Bayes–Laplace with ``prior`` pseudo-votes each way; ties split evenly), and the item is
    done from ``min_raters`` votes once the equal-tailed ``level`` interval excludes 1/2
    (reason "preference"), or once ties carry at least ``tie_share`` of the weighted votes
    (reason "ties": the raters find the two alike, and more of them will not separate them),
    and always at ``max_raters``. A vote of weight 0 (a coin-flipper) moves nothing.
    """
    counts = pairwise_counts(choice, weight, strength)
    n = int(np.asarray(choice).size)
    _check_bounds(min_raters, max_raters)
    a, b, t = counts[LEFT], counts[RIGHT], counts[TIE]
    alpha, beta = prior + a + 0.5 * t, prior + b + 0.5 * t
    lo, hi = (float(x) for x in beta_interval(alpha, beta, level))
    total = counts.sum()
    shares = counts / total if total > 0 else np.full(3, 1.0 / 3)
    reason = _bounded(n, min_raters, max_raters)
    if reason is None:
        if lo > 0.5 or hi < 0.5:
            reason = "preference"
        elif total > 0 and t >= tie_share * total:
            reason = "ties"
        else:
            reason = "unsure"
    return StopDecision(
        done=reason in ("max_raters", "preference", "ties"),
        reason=reason,
        n_votes=n,
        posterior=shares,
        estimate=float(alpha / (alpha + beta)),
        interval=(lo, hi),
    )


# -- Likert -------------------------------------------------------------------------------------


def likert_interval(rating, weight=None, *, n_levels, level=0.9, prior_sd=None, prior_df=2.0):
    """Weighted mean rating and its ``level`` interval: (mean, low, high, distribution).

    rating: (n_votes,) codes 0..n_levels-1; weight: (n_votes,) non-negative, 1 when None.
    Normal model with unknown variance and a scaled-inverse-chi-squared prior of ``prior_df``
    degrees of freedom at ``prior_sd`` (default a quarter of the scale's range), so two equal
    ratings do not make a zero-width interval; the mean's marginal posterior is then a Student t
    (Gelman et al., Bayesian Data Analysis, 3rd ed., section 3.3). Weighted votes enter through
    Kish's (1965) effective sample size ``n_eff = (sum w)^2 / sum w^2``.
    """
    x = np.asarray(rating, dtype=np.float64)
    w = np.ones(x.size) if weight is None else np.asarray(weight, dtype=np.float64)
    dist = np.bincount(x.astype(np.int64), weights=w, minlength=n_levels)[:n_levels]
    sw = w.sum()
    dist = dist / sw if sw > 0 else np.full(n_levels, 1.0 / n_levels)
    sd0 = (n_levels - 1) / 4.0 if prior_sd is None else float(prior_sd)
    if sw <= 0:
        mid = (n_levels - 1) / 2.0
        return mid, 0.0, float(n_levels - 1), dist
    mean = float((w * x).sum() / sw)
    n_eff = sw * sw / float((w * w).sum())
    ss = float((w * (x - mean) ** 2).sum() / sw) * n_eff  # weighted sum of squares, n_eff scale
    df = prior_df + n_eff - 1.0
    var = (prior_df * sd0 * sd0 + ss) / df
    half = float(stdtrit(df, 0.5 + level / 2.0)) * np.sqrt(var / n_eff)
    return mean, mean - half, mean + half, dist


def likert_stop(
    rating,
    weight=None,
    *,
    n_levels,
    min_raters=2,
    max_raters=10,
    max_width=1.0,
    level=0.9,
    prior_sd=None,
    prior_df=2.0,
) -> StopDecision:
    """Stop rule for one Likert item: done once the ``level`` interval of the (rater-weighted)
    mean rating is at most ``max_width`` scale points wide (reason "narrow"), from
    ``min_raters`` votes, and always at ``max_raters``. The interval is :func:`likert_interval`;
    ``weight`` (n_votes,) e.g. the raters' accuracies or inverse error variances."""
    n = int(np.asarray(rating).size)
    _check_bounds(min_raters, max_raters)
    mean, lo, hi, dist = likert_interval(
        rating, weight, n_levels=n_levels, level=level, prior_sd=prior_sd, prior_df=prior_df
    )
    reason = _bounded(n, min_raters, max_raters)
    if reason is None:
        reason = "narrow" if hi - lo <= max_width else "wide"
    return StopDecision(
        done=reason in ("max_raters", "narrow"),
        reason=reason,
        n_votes=n,
        posterior=dist,
        estimate=mean,
        interval=(lo, hi),
    )


STOP_RULES = {"categorical": categorical_stop, "pairwise": pairwise_stop, "likert": likert_stop}


def stop_rule(kind: str, *args, **kwargs) -> StopDecision:
    """Dispatch to the stop rule of a label kind: "categorical", "pairwise" or "likert"."""
    try:
        fn = STOP_RULES[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {sorted(STOP_RULES)}, got {kind!r}") from None
    return fn(*args, **kwargs)


# -- queue order --------------------------------------------------------------------------------


def categorical_uncertainty(posterior, *, measure="entropy") -> np.ndarray:
    """(n_items,) uncertainty in [0, 1] of each row of ``posterior`` (n_items, K).

    "entropy": Shannon entropy divided by log K; "least_confidence": (1 - max) divided by
    (1 - 1/K). Both are 0 for a certain item and 1 for a uniform row (Settles 2009, "Active
    learning literature survey", section 3.1). Scaling to [0, 1] lets projects with different
    K share :func:`queue_priority`.
    """
    p = np.asarray(posterior, dtype=np.float64)
    k = p.shape[1]
    if k < 2:
        return np.zeros(p.shape[0])
    if measure == "entropy":
        logs = np.log(np.where(p > 0, p, 1.0))
        return np.clip(-(p * logs).sum(axis=1) / np.log(k), 0.0, 1.0)
    if measure == "least_confidence":
        return np.clip((1.0 - p.max(axis=1)) / (1.0 - 1.0 / k), 0.0, 1.0)
    raise ValueError("measure must be 'entropy' or 'least_confidence'")


# Layout of the priority: bit 52 says "has labels"; bits 32..51 hold the certainty (1 minus the
# uncertainty) in 2^20 steps; bits 0..31 the age rank. The total stays below 2^53, so it is
# exact as a PostgreSQL bigint, a float64 and a JavaScript number.
UNCERTAINTY_STEPS = 1 << 20
AGE_RANKS = 1 << 32
PRIORITY_MAX = (1 << 53) - 1


def queue_priority(n_labels, uncertainty, age_rank) -> np.ndarray:
    """(n_items,) int64 sort key, smallest first: unlabelled, then most uncertain, then oldest.

    n_labels: (n_items,) labels so far; uncertainty: (n_items,) in [0, 1] (from
    :func:`categorical_uncertainty` or :func:`pairwise_uncertainty`; ignored where unlabelled,
    clipped into [0, 1], NaN refused); age_rank: (n_items,) int in 0..2^32-1, 0 the oldest.
    Key = ``labelled * 2^52 + round((1 - u) * (2^20 - 1)) * 2^32 + age_rank``, in
    0..2^53-1. Uncertainties closer than 2^-20 tie and fall to age.
    """
    n = np.asarray(n_labels)
    u = np.asarray(uncertainty, dtype=np.float64)
    age = np.asarray(age_rank, dtype=np.int64)
    if np.isnan(u).any():
        raise ValueError("uncertainty must not be NaN")
    if age.size and (age.min() < 0 or age.max() >= AGE_RANKS):
        raise ValueError(f"age_rank must lie in 0..{AGE_RANKS - 1}")
    labelled = (n > 0).astype(np.int64)
    certainty = np.rint((1.0 - np.clip(u, 0.0, 1.0)) * (UNCERTAINTY_STEPS - 1)).astype(np.int64)
    certainty *= labelled
    return (labelled << 52) + (certainty << 32) + age


# Queue levels of uncertainty-first order as the server writes them (Item.priority): the
# claim walks priority levels from the top, so a level per item (queue_priority's key)
# would make each claim walk past every finished one. From the top: unlabelled items no
# model has seen (21), unlabelled items in ten bands of the model's uncertainty (20 .. 11),
# labelled items in ten bands of the aggregate's uncertainty (10 .. 1), finished items (0);
# within a level the claim keeps its own order (closest to done, then the oldest).
LEVEL_BANDS, LEVEL_DONE = 10, 0
LEVEL_MODEL = LEVEL_BANDS  # an unlabelled item's level is this plus its model band
LEVEL_UNLABELLED = 2 * LEVEL_BANDS + 1


def uncertainty_levels(uncertainty) -> np.ndarray:
    """(n,) uncertainty in [0, 1] -> queue levels 1..LEVEL_BANDS, the most uncertain highest."""
    u = np.clip(np.nan_to_num(np.asarray(uncertainty, dtype=float), nan=1.0), 0.0, 1.0)
    return 1 + np.minimum((u * LEVEL_BANDS).astype(np.int64), LEVEL_BANDS - 1)
