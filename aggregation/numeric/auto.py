"""``auto``: choose a categorical method per crowd without the truth, and guard tiny data.

The candidates are the categorical methods of this package, simplest first (on equal scores
the simpler one wins): majority vote, weighted vote, one-coin Dawid–Skene, GLAD, MACE and
Dawid–Skene. The choice, in order:

1. **Identifiability.** A rater model is only fitted where it can be identified: a median of at
   least ``MIN_RATERS_PER_ITEM`` (3) votes on the items where raters disagree (on every
   labelled item when none do; :func:`raters_where_contested`), since with two raters a
   disagreement cannot say which of them erred (latent-class models need three conditionally
   independent views; Kruskal 1977, Allman et al. 2009), and at least ``VOTES_PER_PARAMETER``
   (3) votes per free parameter of the model. Where no rater model qualifies, the majority
   vote is the answer.
2. **Gold.** With at least ``MIN_GOLD_ITEMS`` (10) gold items, the candidate most accurate on
   them (each fitted without the gold) wins; held-out likelihood breaks ties.
3. **Held-out likelihood.** Otherwise, K-fold cross-validation over labels: each fold's labels
   are hidden, every candidate is fitted on the rest, and each hidden label (item i, rater r,
   label l) is scored by the fitted model's predictive probability
   ``sum_k posterior[i, k] * P(r says l | true k)``, the item's posterior coming from its
   remaining labels. The candidate with the highest mean log-probability wins. A vote has no
   rater model of its own; it is scored with the one it implies, raters interchangeable (one
   pooled confusion matrix estimated from its posterior). This is the likelihood principle
   applied to what is observed, the labels, so the truth is never used (Smyth 2000 on
   cross-validated likelihood for choosing among mixture models).

After the fit, **a unanimous item is never flipped** unless the evidence is strong: an item
whose every vote names one label keeps that label, unless every rater who voted on it is
``unreliable`` (from gold: credibly wrong more often than right). The items kept this way are
counted in ``n_kept_unanimous``; their posterior is the vote's.

P. Smyth (2000), "Model selection for probabilistic clustering using cross-validated
likelihood", Statistics and Computing 10:63–73. J. B. Kruskal (1977), "Three-way arrays: rank
and uniqueness of trilinear decompositions", Linear Algebra and its Applications 18:95–138.
E. S. Allman, C. Matias and J. A. Rhodes (2009), "Identifiability of parameters in latent
structure models with many observed variables", Annals of Statistics 37(6A):3099–3132.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv

from ._votes import prepare_votes
from .categorical import CategoricalResult, majority_vote, vote_counts, weighted_vote
from .dawid_skene import check_gold, dawid_skene, one_coin_dawid_skene
from .glad import glad
from .mace import mace

CANDIDATES = ("majority", "weighted", "one_coin", "glad", "mace", "dawid_skene")
MIN_RATERS_PER_ITEM = 3
VOTES_PER_PARAMETER = 3
MIN_GOLD_ITEMS = 10
N_FOLDS = 5
# Folds are scored until this many labels have been held out: on a large crowd one fold of
# hidden labels already measures the likelihood to a few decimals, and each fold costs a fit
# of every candidate. (Subsampling items instead would leave each rater fewer labels than the
# real fit has, and so favour the models with fewer parameters.)
ENOUGH_HELD_OUT = 50_000
# Gold says a rater is unreliable when the 95% quantile of their accuracy's Beta(1, 1)
# posterior lies below 1/2: credibly wrong more often than right.
UNRELIABLE_BELOW = 0.5
# Pseudo-count per cell of the pooled confusion matrix that scores a vote's posterior.
_POOLED_PRIOR = 0.01


@dataclass(frozen=True)
class AutoResult(CategoricalResult):
    """What ``auto`` chose and why, with the chosen method's result.

    method: the chosen candidate's name; reason: why, as a phrase that follows "because";
    scores: per candidate ``{"eligible", "held_out_log_likelihood", "gold_accuracy", "note"}``
    (None where not computed); model: the chosen method's own result (before the unanimity guard);
    n_kept_unanimous: items where the guard kept the raters' unanimous label.
    """

    method: str
    reason: str
    scores: dict
    model: CategoricalResult
    n_kept_unanimous: int


def free_parameters(method: str, *, n_items: int, n_raters: int, n_labels: int) -> int:
    """Free parameters of a candidate's rater model (the class prior included)."""
    k = n_labels
    per_rater = {
        "majority": 0,
        "weighted": 1,
        "one_coin": 1,
        "glad": 1,
        "mace": k,
        "dawid_skene": k * (k - 1),
    }[method]
    item_params = n_items if method == "glad" else 0
    prior = 0 if method == "majority" else k - 1
    return n_raters * per_rater + item_params + prior


def _fit(method, item_idx, rater_idx, label, shape, kwargs, gold=None, weights=None):
    kw = dict(kwargs.get(method, {}))
    if method == "majority":
        return majority_vote(item_idx, rater_idx, label, **shape)
    if method == "weighted":
        if weights is not None:
            return majority_vote(item_idx, rater_idx, label, weights=weights, **shape)
        return weighted_vote(item_idx, rater_idx, label, gold=gold, **shape)
    fn = {"one_coin": one_coin_dawid_skene, "glad": glad, "mace": mace, "dawid_skene": dawid_skene}
    return fn[method](item_idx, rater_idx, label, gold=gold, **shape, **kw)


def predictive(method, res, train, test, n_labels) -> np.ndarray:
    """(n_test,) probability the fitted model gives each held-out vote.

    train, test: (item_idx, rater_idx, label) of the fitted and the hidden votes.
    """
    post = res.posterior
    item, rater, label = test
    if method in ("majority", "weighted"):
        # Raters interchangeable: one confusion matrix for all, from the vote's posterior.
        t_item, _, t_label = train
        pooled = np.full((n_labels, n_labels), _POOLED_PRIOR)
        for lab in range(n_labels):
            pooled[:, lab] += post[t_item[t_label == lab]].sum(axis=0)
        pooled /= pooled.sum(axis=1, keepdims=True)
        return np.einsum("nk,kn->n", post[item], pooled[:, label])
    if method == "glad":
        right = 1.0 / (1.0 + np.exp(-res.competence[rater] * res.inverse_difficulty[item]))
        p_true = post[item, label]
        return p_true * right + (1.0 - p_true) * (1.0 - right) / max(n_labels - 1, 1)
    return np.einsum("nk,nk->n", post[item], res.confusion[rater, :, label])


def held_out_log_likelihood(method, votes, shape, kwargs, folds, weights=None) -> float:
    """Mean log predictive probability of each label when its fold is hidden.

    Folds are scored in order until ``ENOUGH_HELD_OUT`` labels have been; the mean is over
    the labels scored."""
    logp = np.full(votes.n_votes, np.nan)
    for k in range(int(folds.max()) + 1):
        if np.sum(~np.isnan(logp)) >= ENOUGH_HELD_OUT:
            break
        hide = folds == k
        train = (votes.item[~hide], votes.rater[~hide], votes.label[~hide])
        test = (votes.item[hide], votes.rater[hide], votes.label[hide])
        res = _fit(method, *train, shape, kwargs, weights=weights)
        logp[hide] = np.log(
            np.maximum(predictive(method, res, train, test, shape["n_labels"]), 1e-300)
        )
    return float(np.nanmean(logp))


def unreliable_from_gold(votes, gold: np.ndarray) -> np.ndarray:
    """(n_raters,) bool: raters credibly wrong more often than right on the gold items."""
    r = votes.n_raters
    on_gold = gold[votes.item] >= 0
    right = on_gold & (gold[votes.item] == votes.label)
    n = np.bincount(votes.rater, weights=on_gold, minlength=r)[:r]
    k = np.bincount(votes.rater, weights=right, minlength=r)[:r]
    return betaincinv(1.0 + k, 1.0 + n - k, 0.95) < UNRELIABLE_BELOW


def raters_where_contested(votes) -> tuple[float, str]:
    """The median number of votes on the items where the raters disagree, and what it is over.

    A rater model learns who erred from disagreements, so what it needs is three votes where
    raters disagree, not on every item: with dynamic overlap (docs/aggregation.md) most items
    stop at two agreeing votes and every split gets a third, so a median over all items (2)
    would call such a crowd unidentifiable and leave it to the majority vote. With no
    disagreement at all, the median over every labelled item.
    """
    counts = vote_counts(votes)
    contested = votes.voted & (counts.max(axis=1) < votes.counts)
    per_item = votes.counts[contested] if contested.any() else votes.counts[votes.voted]
    where = "item where raters disagree" if contested.any() else "item"
    return (float(np.median(per_item)) if per_item.size else 0.0), where


def _eligibility(votes, shape) -> dict[str, str | None]:
    """Why each candidate cannot be identified on these votes (None where it can)."""
    median, where = raters_where_contested(votes)
    out = {"majority": None}
    for method in CANDIDATES[1:]:
        need = VOTES_PER_PARAMETER * free_parameters(method, **shape)
        if median < MIN_RATERS_PER_ITEM:
            out[method] = (
                f"a median of {median:g} rater(s) per {where}; a rater model needs "
                f"{MIN_RATERS_PER_ITEM} to tell who erred when raters disagree"
            )
        elif votes.n_votes < need:
            out[method] = (
                f"{votes.n_votes} labels for {need // VOTES_PER_PARAMETER} parameters; "
                f"it needs {VOTES_PER_PARAMETER} labels per parameter ({need})"
            )
        else:
            out[method] = None
    return out


def keep_unanimous(votes, label, posterior, unreliable):
    """Put back the raters' label on unanimous items the model flipped, unless every rater on
    the item is unreliable. Returns (label, posterior, mask of the kept items)."""
    counts = vote_counts(votes)
    n = votes.effective_votes()
    vote_label = np.argmax(counts, axis=1)
    unanimous = votes.voted & (counts.max(axis=1) == n)
    trusted = np.bincount(votes.item, weights=~unreliable[votes.rater], minlength=votes.n_items)[
        : votes.n_items
    ]
    kept = unanimous & (label != vote_label) & (trusted > 0)
    if kept.any():
        label = label.copy()
        posterior = posterior.copy()
        label[kept] = vote_label[kept]
        posterior[kept] = counts[kept] / n[kept, None]
    return label, posterior, kept


def _best(methods, score) -> str:
    # Strictly better only: on equal scores the earlier, simpler candidate stays.
    best = methods[0]
    for m in methods[1:]:
        if score(m) > score(best):
            best = m
    return best


def auto(
    item_idx,
    rater_idx,
    label,
    *,
    n_items,
    n_raters,
    n_labels,
    gold=None,
    unreliable=None,
    weights=None,
    n_folds=N_FOLDS,
    rng=None,
    method_kwargs=None,
) -> AutoResult:
    """Choose and fit a categorical method per crowd, truth-free (see the module docstring).

    Shapes: ``item_idx``, ``rater_idx``, ``label`` (n_votes,) int codes; ``gold`` (n_items,)
    int, -1 where unknown; ``unreliable`` (n_raters,) bool, raters whose unanimous votes the
    model may overrule (from ``gold`` when not given, else nobody); ``weights`` (n_raters,)
    fixed weights for the weighted-vote candidate (else agreement, or gold accuracy in the
    final fit); ``method_kwargs`` {method: kwargs} passed to each candidate. Folds are drawn from
    ``rng`` (None means seed 0) over the votes sorted by (item, rater, label), so the result
    does not depend on the order of the input rows.
    """
    shape = {"n_items": n_items, "n_raters": n_raters, "n_labels": n_labels}
    votes = prepare_votes(item_idx, rater_idx, label, **shape)
    gold = check_gold(gold, n_items, n_labels)
    kwargs = method_kwargs or {}
    if unreliable is None:
        unreliable = np.zeros(n_raters, bool) if gold is None else unreliable_from_gold(votes, gold)
    unreliable = np.asarray(unreliable, dtype=bool)
    why_not = _eligibility(votes, shape)
    eligible = [m for m in CANDIDATES if why_not[m] is None]
    scores = {
        m: {
            "eligible": why_not[m] is None,
            "held_out_log_likelihood": None,
            "gold_accuracy": None,
            "note": why_not[m],
        }
        for m in CANDIDATES
    }
    all_votes = (votes.item, votes.rater, votes.label)
    if len(eligible) == 1:
        chosen = "majority"
        reason = f"no rater model can be identified: {why_not['dawid_skene']}"
    else:
        gen = np.random.default_rng(0 if rng is None else rng)
        folds = gen.permutation(votes.n_votes) % n_folds
        for m in eligible:
            scores[m]["held_out_log_likelihood"] = round(
                held_out_log_likelihood(m, votes, shape, kwargs, folds, weights), 6
            )
        n_gold = 0 if gold is None else int(np.sum((gold >= 0) & votes.voted))
        if n_gold >= MIN_GOLD_ITEMS:
            known = (gold >= 0) & votes.voted
            for m in eligible:
                res = _fit(m, *all_votes, shape, kwargs, weights=weights)
                scores[m]["gold_accuracy"] = round(
                    float(np.mean(res.label[known] == gold[known])), 6
                )
            chosen = _best(
                eligible,
                lambda m: (scores[m]["gold_accuracy"], scores[m]["held_out_log_likelihood"]),
            )
            tally = _runner_up(eligible, chosen, scores, "gold_accuracy")
            reason = f"most accurate on {n_gold} gold items ({tally})"
        else:
            chosen = _best(eligible, lambda m: scores[m]["held_out_log_likelihood"])
            tally = _runner_up(eligible, chosen, scores, "held_out_log_likelihood")
            reason = (
                "highest held-out log-likelihood of the observed labels, "
                f"{n_folds}-fold over labels ({tally} per label)"
            )
    model = _fit(chosen, *all_votes, shape, kwargs, gold=gold, weights=weights)
    lab, post, kept = keep_unanimous(votes, model.label, model.posterior, unreliable)
    if kept.any():
        reason += (
            f"; kept the raters' unanimous label on {int(kept.sum())} item(s) the model "
            "would have flipped"
        )
    return AutoResult(
        posterior=post,
        label=lab,
        ties=np.where(kept, False, model.ties),
        n_votes=model.n_votes,
        method=chosen,
        reason=reason,
        scores=scores,
        model=model,
        n_kept_unanimous=int(kept.sum()),
    )


def _runner_up(eligible, chosen, scores, key) -> str:
    """The chosen score, and the best of the rest, for the reason."""
    others = sorted((m for m in eligible if m != chosen), key=lambda m: -scores[m][key])
    own = f"{scores[chosen][key]:.4f}"
    return own if not others else f"{own}; next {others[0]} {scores[others[0]][key]:.4f}"
