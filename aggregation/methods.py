"""From loaded annotation arrays to per-item results, for every label kind.

This is the glue between the database-shaped arrays of aggregation.loading and the pure
functions of aggregation.numeric. It knows label kinds and schemas, never models or queries;
services call it with what they loaded.

Result shapes per kind (stored on ItemResult; docs/aggregation.md has examples):

| kind | label | distribution | confidence |
|---|---|---|---|
| single_choice | `"yes"` | `{"yes": 0.9, "no": 0.1}` | probability of the label |
| multi_choice | `["spam"]` (tags with p > 0.5) | `{"spam": 0.8, "ham": 0.1}` per tag | mean certainty over tags |
| likert | `{"helpfulness": 4.2}` | `{"helpfulness": [p1, ..., pK]}` | None |
| pairwise | `"A"`, `"B"` or `"tie"` | `{"A": .., "B": .., "tie": ..}` | probability of the label |
| ranking | `[2, 0, 1]` response indexes, best first | `{"0": score, ...}` worths | None |
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aggregation import numeric
from aggregation.loading import MISSING
from aggregation.numeric.auto import CANDIDATES, UNRELIABLE_BELOW
from quality.numeric import trust_posterior
from tasks import kinds
from tasks import schema as schemas

# Which methods apply is each kind's to say (tasks/kinds); kinds without any have no
# aggregation.
METHODS_BY_KIND = {
    name: kinds.get(name).aggregation_methods
    for name in kinds.KINDS
    if kinds.get(name).aggregation_methods
}
# Options a manager may set per run, with their types. Anything else is refused by name.
PARAMETERS = {
    "prior": float,
    "max_iter": int,
    "tol": float,
    "n_restarts": int,
    "weights": str,  # weighted vote: "gold", "agreement" or "auto"
    "seed": int,
    "bootstrap": bool,  # Bradley–Terry leaderboard intervals by bootstrap, else Hessian
}
PAIRWISE_LABELS = ("A", "B", "tie")
ELO = 400.0 / np.log(10.0)


class MethodError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def default_method(kind: str, *, subjective: bool) -> str:
    """Dawid–Skene where raters are judged against a truth; majority shares where the
    disagreement itself is the data (subjective projects), so that no rater's minority view
    is discounted."""
    return kinds.get(kind).default_aggregation(subjective=subjective)


def check_method(kind: str, method: str, parameters: dict | None) -> dict:
    """Validate a method and its parameters for a kind; return clean parameters."""
    allowed = METHODS_BY_KIND.get(kind)
    if not allowed:
        raise MethodError("method", f"{kind} projects have no aggregation")
    if method not in allowed:
        raise MethodError("method", f"must be one of {', '.join(allowed)} for {kind} projects")
    parameters = parameters or {}
    if not isinstance(parameters, dict):
        raise MethodError("parameters", "must be an object")
    clean = {}
    for key, value in parameters.items():
        kind_of = PARAMETERS.get(key)
        if kind_of is None:
            raise MethodError(f"parameters.{key}", "is not a parameter of aggregation")
        ok = isinstance(value, kind_of) and not (kind_of is not bool and isinstance(value, bool))
        if kind_of is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            raise MethodError(f"parameters.{key}", f"must be a {kind_of.__name__}")
        clean[key] = value
    if clean.get("weights", "auto") not in ("gold", "agreement", "auto"):
        raise MethodError("parameters.weights", "must be gold, agreement or auto")
    return clean


@dataclass
class Fit:
    """Per-item results, aligned with ``item_ids``, and run-level statistics."""

    item_ids: np.ndarray
    label: list
    confidence: list
    distribution: list
    n_votes: np.ndarray
    extra: list | None = None
    stats: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RaterInfo:
    """Per-rater facts the fit may use, aligned with the arrays' rater codes."""

    gold_n: np.ndarray
    gold_score_sum: np.ndarray


def _r(x: float, digits: int = 6):
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def _auto_model(votes, raters, params, *, subjective):
    """``auto`` over the categorical methods, with what the project knows from gold.

    The weighted-vote candidate weighs raters as the weighted method would when that does
    not depend on the votes (gold, or uniform for subjective projects); otherwise auto
    computes agreement weights on each fold's own labels. Raters whose gold accuracy is
    credibly below 1/2 (the upper end of their trust band, quality.numeric.trust_posterior)
    are the strong evidence on which a unanimous vote may be overruled.
    """
    item_idx, rater_idx, label, n_items, n_raters, n_labels = votes
    weights = None
    if subjective or np.any(raters.gold_n > 0):
        weights, _ = rater_weights(votes, raters, params, subjective=subjective)
    trust = trust_posterior(raters.gold_score_sum, raters.gold_n)
    unreliable = (raters.gold_n > 0) & (trust.upper < UNRELIABLE_BELOW)
    return numeric.auto(
        item_idx,
        rater_idx,
        label,
        n_items=n_items,
        n_raters=n_raters,
        n_labels=n_labels,
        unreliable=unreliable,
        weights=weights,
        rng=params.get("seed", 0),
        method_kwargs={m: _categorical_kwargs(m, params) for m in CANDIDATES},
    )


def _categorical_kwargs(method: str, params: dict) -> dict:
    kw = {}
    if method in ("dawid_skene", "one_coin"):
        for key in ("prior", "max_iter", "tol"):
            if key in params:
                kw[key] = params[key]
    elif method == "mace":
        for key in ("max_iter", "tol", "n_restarts"):
            if key in params:
                kw[key] = params[key]
        kw["rng"] = params.get("seed", 0)
    elif method == "glad":
        for key in ("max_iter", "tol"):
            if key in params:
                kw[key] = params[key]
    return kw


def rater_weights(votes, raters: RaterInfo, params: dict, *, subjective: bool):
    """Per-rater weights for the weighted vote, after Callison-Burch (2009).

    "gold": the trust posterior mean of live gold accuracy (quality.numeric.trust_posterior,
    the rule every door reads; "weighted by experts");
    "agreement": agreement with the other raters ("weighted by non-experts"); "auto": gold when
    any rater has gold answers, else agreement. Subjective projects never weight by agreement:
    a minority view there is data, not error, so without gold every rater weighs the same.
    Returns ((n_raters,) weights, the source used).
    """
    item_idx, rater_idx, label, n_items, n_raters, n_labels = votes
    choice = params.get("weights", "auto")
    has_gold = bool(np.any(raters.gold_n > 0))
    if choice == "gold" or (choice == "auto" and has_gold) or subjective:
        if not has_gold:
            return np.ones(n_raters), "uniform"
        return trust_posterior(raters.gold_score_sum, raters.gold_n).mean, "gold"
    w = numeric.agreement_weights(
        item_idx, rater_idx, label, n_items=n_items, n_raters=n_raters, n_labels=n_labels
    )
    return w, "agreement"


def categorical_model(method, votes, raters, params, *, subjective):
    """Run one categorical method on (item_idx, rater_idx, label, n_items, n_raters, n_labels)."""
    item_idx, rater_idx, label, n_items, n_raters, n_labels = votes
    shape = {"n_items": n_items, "n_raters": n_raters, "n_labels": n_labels}
    stats = {}
    if method == "auto":
        res = _auto_model(votes, raters, params, subjective=subjective)
        stats["auto"] = {
            "chosen": res.method,
            "reason": res.reason,
            "scores": res.scores,
            "n_kept_unanimous": res.n_kept_unanimous,
        }
        if hasattr(res.model, "n_iter"):
            stats.update(n_iter=int(res.model.n_iter), converged=bool(res.model.converged))
            stats["log_likelihood"] = _r(res.model.log_likelihood, 4)
    elif method == "majority":
        res = numeric.majority_vote(item_idx, rater_idx, label, **shape)
    elif method == "weighted":
        w, source = rater_weights(votes, raters, params, subjective=subjective)
        res = numeric.majority_vote(item_idx, rater_idx, label, weights=w, **shape)
        stats["weights"] = source
    else:
        fn = {
            "dawid_skene": numeric.dawid_skene,
            "one_coin": numeric.one_coin_dawid_skene,
            "mace": numeric.mace,
            "glad": numeric.glad,
        }[method]
        res = fn(item_idx, rater_idx, label, **shape, **_categorical_kwargs(method, params))
        stats.update(n_iter=int(res.n_iter), converged=bool(res.converged))
        stats["log_likelihood"] = _r(res.log_likelihood, 4)
    stats["n_ties"] = int(np.sum(res.ties & ~res.unvoted))
    return res, stats


def fit(kind, schema, arrays, method, params, raters, *, subjective=False, extra_data=None):
    """Aggregate loaded labels (aggregation.loading.AnnotationArrays, or rows for kinds that
    load rows) into a Fit, by the kind's own fitter."""
    label_kind = kinds.get(kind)
    if not label_kind.aggregation_methods:
        raise MethodError("method", f"{kind} projects have no aggregation")
    return label_kind.aggregate(
        schema, arrays, method, params, raters, subjective=subjective, extra_data=extra_data or {}
    )


def _valid(arrays, column):
    keep = arrays[column] != MISSING
    return keep, arrays.item_idx[keep], arrays.rater_idx[keep], arrays[column][keep]


def fit_single(schema, arrays, method, params, raters, subjective):
    choices = [c["value"] for c in schema["choices"]]
    keep, item_idx, rater_idx, label = _valid(arrays, "label")
    votes = (item_idx, rater_idx, label, arrays.item_ids.size, arrays.rater_ids.size, len(choices))
    res, stats = categorical_model(method, votes, raters, params, subjective=subjective)
    stats["n_skipped_answers"] = int((~keep).sum())
    names = np.array(choices, dtype=object)
    post = res.posterior
    conf = post[np.arange(post.shape[0]), res.label]
    return Fit(
        item_ids=arrays.item_ids,
        label=names[res.label].tolist(),
        confidence=[_r(c) for c in conf],
        distribution=[dict(zip(choices, (_r(x) for x in row), strict=True)) for row in post],
        n_votes=res.n_votes,
        stats=stats,
    )


def fit_multi(schema, arrays, method, params, raters, subjective):
    choices = [c["value"] for c in schema["choices"]]
    keep, item_idx, rater_idx, mask = _valid(arrays, "tags")
    tags = ((mask[:, None] >> np.arange(len(choices))) & 1).astype(bool)
    n_items, n_raters = arrays.item_ids.size, arrays.rater_ids.size
    prob = np.empty((n_items, len(choices)))
    stats = {"tags": {}}
    n_votes = np.zeros(n_items)
    for j, tag in enumerate(choices):
        votes = (item_idx, rater_idx, tags[:, j].astype(np.int64), n_items, n_raters, 2)
        res, tag_stats = categorical_model(method, votes, raters, params, subjective=subjective)
        prob[:, j] = res.posterior[:, 1]
        n_votes = res.n_votes
        stats["tags"][tag] = tag_stats
    stats["n_skipped_answers"] = int((~keep).sum())
    chosen = prob > 0.5
    certainty = np.where(chosen, prob, 1.0 - prob).mean(axis=1) if choices else np.ones(n_items)
    return Fit(
        item_ids=arrays.item_ids,
        label=[[c for c, on in zip(choices, row, strict=True) if on] for row in chosen],
        confidence=[_r(c) for c in certainty],
        distribution=[dict(zip(choices, (_r(x) for x in row), strict=True)) for row in prob],
        n_votes=n_votes,
        stats=stats,
    )


def fit_likert(schema, arrays, method, params):
    scale = schema["scale"]
    n_items, n_raters = arrays.item_ids.size, arrays.rater_ids.size
    labels = [{} for _ in range(n_items)]
    dists = [{} for _ in range(n_items)]
    extras = [{} for _ in range(n_items)]
    n_votes = np.zeros(n_items)
    stats = {"dimensions": {}}
    for dim in schema["dimensions"]:
        name = dim["name"]
        col = arrays[f"dim:{name}"]
        keep = (col >= 1) & (col <= scale)
        item_idx, rater_idx, rating = arrays.item_idx[keep], arrays.rater_idx[keep], col[keep] - 1
        summary = numeric.likert_summary(
            item_idx, rater_idx, rating, n_items=n_items, n_raters=n_raters, n_levels=scale
        )
        dim_stats = {"n_skipped_answers": int((~keep).sum())}
        corrected = None
        if method == "bias_corrected":
            kw = {k: params[k] for k in ("max_iter", "tol") if k in params}
            bc = numeric.bias_corrected_mean(
                item_idx,
                rater_idx,
                rating,
                n_items=n_items,
                n_raters=n_raters,
                n_levels=scale,
                **kw,
            )
            corrected = bc.mean + 1.0
            dim_stats.update(n_iter=int(bc.n_iter), converged=bool(bc.converged))
        mean, median = summary.mean + 1.0, summary.median + 1.0
        value = {"mean": mean, "median": median, "bias_corrected": corrected}[method]
        n_votes = np.maximum(n_votes, summary.n_votes)
        for i in range(n_items):
            labels[i][name] = _r(value[i], 4)
            dists[i][name] = [_r(x) for x in summary.distribution[i]]
            extras[i][name] = {"mean": _r(mean[i], 4), "median": _r(median[i], 4)}
            if corrected is not None:
                extras[i][name]["bias_corrected"] = _r(corrected[i], 4)
        stats["dimensions"][name] = dim_stats
    return Fit(
        item_ids=arrays.item_ids,
        label=labels,
        confidence=[None] * n_items,
        distribution=dists,
        n_votes=n_votes,
        extra=extras,
        stats=stats,
    )


def split_to_tie(posterior, label):
    """(n_items,) labels with every exact A/B split named a tie (code 2).

    ``posterior`` (n_items, >= 2) with A and B in its first two columns (further columns,
    tie or both bad, are left alone), ``label`` its argmax codes. Where A and B have the
    same posterior and lead, argmax names A, the side shown first: a
    one-to-one split would then reach the preference export as "A chosen", a pair the raters
    never agreed on, and always on the same side. Near-equal posteriors from raters of
    different quality still pick a side.
    """
    post = np.asarray(posterior, dtype=np.float64)
    out = np.asarray(label).copy()
    split = np.isin(out, (0, 1)) & (np.abs(post[:, 0] - post[:, 1]) <= 1e-9)
    split &= post[:, :2].sum(1) > 0
    out[split] = 2
    return out


def fit_pairwise(arrays, method, params, raters, subjective, extra_data):
    keep, item_idx, rater_idx, choice = _valid(arrays, "choice")
    both_bad = choice == 3
    # The preference model is over {A, B, tie}: "both bad" expresses no preference between
    # the two sides, so it counts as a tie there and its share is reported separately.
    pref_choice = np.where(both_bad, 2, choice)
    n_items, n_raters = arrays.item_ids.size, arrays.rater_ids.size
    votes = (item_idx, rater_idx, pref_choice, n_items, n_raters, 3)
    res, stats = categorical_model(method, votes, raters, params, subjective=subjective)
    stats["n_skipped_answers"] = int((~keep).sum())
    post = res.posterior
    margin = post[:, 0] - post[:, 1]
    strength = arrays["strength"][keep]
    signed = np.where(choice == 0, strength, np.where(choice == 1, -strength, 0))
    # Per-item mean of the signed strength (A positive), every answer counted as the
    # preference model counts it (aggregation.numeric._votes: each row is one vote).
    cnt = np.bincount(item_idx, minlength=n_items).astype(float)
    mean_strength = np.divide(
        np.bincount(item_idx, weights=signed, minlength=n_items),
        cnt,
        out=np.zeros(n_items),
        where=cnt > 0,
    )
    bad_share = np.divide(
        np.bincount(item_idx, weights=both_bad.astype(float), minlength=n_items),
        cnt,
        out=np.zeros(n_items),
        where=cnt > 0,
    )
    names = np.array(PAIRWISE_LABELS, dtype=object)
    label = split_to_tie(post, res.label)
    conf = post[np.arange(n_items), label]
    extras = [
        {"margin": _r(m), "mean_strength": _r(s, 4), "both_bad": _r(b)}
        for m, s, b in zip(margin, mean_strength, bad_share, strict=True)
    ]
    models = extra_data.get("models")
    if models is not None:
        # Each comparison counts by its rater's trust, the posterior every door reads.
        trust, source = rater_weights(votes, raters, {"weights": "gold"}, subjective=False)
        stats.update(
            leaderboard(item_idx, rater_idx, choice, models, arrays.item_ids, params, trust)
        )
        stats["leaderboard_weights"] = source
    return Fit(
        item_ids=arrays.item_ids,
        label=names[label].tolist(),
        confidence=[_r(c) for c in conf],
        distribution=[
            dict(zip(PAIRWISE_LABELS, (_r(x) for x in row), strict=True)) for row in post
        ],
        n_votes=res.n_votes,
        extra=extras,
        stats=stats,
    )


def leaderboard(item_idx, rater_idx, choice, models: dict, item_ids, params, trust) -> dict:
    """Bradley–Terry–Davidson scores of the models behind the responses, with intervals, and
    their win matrix: {"leaderboard": rows, "win_matrix": ..., "leaderboard_interval": ...}.

    item_idx, rater_idx, choice: (n_votes,) per annotation (choice 0 = A, 1 = B, 2 tie,
    3 both bad); models: {item_id: (model_a, model_b)} for items that name both; trust:
    (n_raters,) weight of each rater's comparisons. Every annotation is one comparison, as in
    arena leaderboards; ties and "both bad" are Davidson ties. Scores are on the Elo scale
    (400 / ln 10 per unit of log-strength) and centred on 0. Intervals: the robust
    (sandwich) variance, which stays valid when trust weights are reliabilities rather than
    counts, or with {"bootstrap": true} a bootstrap over raters, which also allows for one
    rater's comparisons not being independent.
    """
    pairs = [models.get(int(i)) for i in item_ids]
    # A model against itself is no comparison (and Bradley–Terry refuses one).
    named = [p if p and len(p) == 2 and p[0] != p[1] else (None, None) for p in pairs]
    a_name = np.array([p[0] for p in named], dtype=object)
    b_name = np.array([p[1] for p in named], dtype=object)
    use = np.array([x is not None for x in a_name], dtype=bool)[item_idx]
    if not use.any():
        return {"leaderboard": []}
    a = a_name[item_idx[use]].astype(str)
    b = b_name[item_idx[use]].astype(str)
    c = choice[use]
    names, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    ca, cb = codes[: a.size], codes[a.size :]
    winner = np.where(c == 1, cb, ca)
    loser = np.where(c == 1, ca, cb)
    ties = c >= 2
    bootstrap = bool(params.get("bootstrap"))
    res = numeric.bradley_terry(
        winner,
        loser,
        n_items=names.size,
        ties=ties,
        weights=trust[rater_idx[use]],
        ci="bootstrap" if bootstrap else "sandwich",
        groups=rater_idx[use],
        rng=params.get("seed", 0),
    )
    board = _board(names, res.scores, res.ci_low, res.ci_high, winner, loser, ties)
    board["leaderboard_fit"] = "bradley_terry"
    board["leaderboard_interval"] = "bootstrap over raters" if bootstrap else "sandwich"
    return board


def _board(names, scores, low, high, winner, loser, ties) -> dict:
    """Leaderboard rows, best first (Elo-scale score and interval, raw head-to-head counts),
    and the win matrix in the same order: wins[a][b] = times a beat b, ties[a][b] draws."""
    wm = numeric.win_matrix(winner, loser, n_items=names.size, ties=ties)
    wins, losses, drawn = wm.wins.sum(axis=1), wm.wins.sum(axis=0), wm.ties.sum(axis=1)
    elo = [_r(x * ELO, 1) for x in scores]
    order = sorted(range(names.size), key=lambda k: (-(elo[k] or 0.0), str(names[k])))
    rows = [
        {
            "model": str(names[k]),
            "score": elo[k],
            "ci_low": _r(low[k] * ELO, 1),
            "ci_high": _r(high[k] * ELO, 1),
            "n_comparisons": int(wins[k] + losses[k] + drawn[k]),
            "wins": int(wins[k]),
            "losses": int(losses[k]),
            "ties": int(drawn[k]),
        }
        for k in order
    ]
    grid = np.ix_(order, order)
    matrix = {
        "models": [str(names[k]) for k in order],
        "wins": wm.wins[grid].tolist(),
        "ties": wm.ties[grid].tolist(),
    }
    return {"leaderboard": rows, "win_matrix": matrix}


def _tie_orders(tiers) -> list[tuple[list, float]]:
    """A tiered ranking (best tier first) as full orders with weights: itself when it has no
    ties, else twice with weight 1/2, each tier in code order and reversed, so that no code
    is favoured."""
    forward = [i for tier in tiers for i in sorted(tier)]
    backward = [i for tier in tiers for i in sorted(tier, reverse=True)]
    return [(forward, 1.0)] if forward == backward else [(forward, 0.5), (backward, 0.5)]


def _padded(orders, width) -> np.ndarray:
    padded = np.full((len(orders), width), -1, dtype=np.int64)
    for row, order in enumerate(orders):
        padded[row, : len(order)] = order
    return padded


def fit_ranking(rows, method, params, models=None) -> Fit:
    """Plackett–Luce or Borda worths of each item's responses.

    rows: (item_id, rater_id, value) with value {"ranking": [[2], [0, 1], [3]]} (best tier
    first). Each response gets the global code ``item_code * 9 + index``; rankings only ever
    compare responses of one item, so one fit serves all items. Tied responses: the ranking
    is counted twice with weight 1/2, once with each tier in index order and once reversed,
    so no index is favoured. models: {item_id: (model, ...)}, one name per response, for
    the models' leaderboard (``ranking_leaderboard``).
    """
    width = schemas.MAX_RESPONSES
    rows = list(rows)
    items = sorted({r[0] for r in rows})
    code = {item_id: k for k, item_id in enumerate(items)}
    orders, weights, owners = [], [], []
    ranked = []
    votes = np.zeros(len(items))
    for item_id, _rater, value in rows:
        tiers = value.get("ranking") if isinstance(value, dict) else None
        if not tiers:
            continue
        k = code[item_id]
        votes[k] += 1
        for order, weight in _tie_orders([[k * width + i for i in tier] for tier in tiers]):
            orders.append(order)
            weights.append(weight)
        owners.append(k)
        ranked.append((item_id, tiers))
    n = len(items) * width
    stats: dict = {"n_rankings": len(owners)}
    if orders:
        padded = _padded(orders, width)
        if method == "borda":
            scores = numeric.borda(padded, n_items=n).scores
        else:
            kw = {k: params[k] for k in ("max_iter", "tol") if k in params}
            pl = numeric.plackett_luce(padded, n_items=n, weights=np.asarray(weights), **kw)
            scores = pl.scores
            stats.update(n_iter=int(pl.n_iter), converged=bool(pl.converged))
    else:
        scores = np.full(n, np.nan)
    if models is not None:
        stats.update(ranking_leaderboard(ranked, models, params))
    seen = np.zeros(n, bool)
    for order in orders:
        seen[order] = True
    labels, dists = [], []
    for k in range(len(items)):
        idx = [i for i in range(width) if seen[k * width + i]]
        s = {str(i): _r(scores[k * width + i], 4) for i in idx}
        labels.append(sorted(idx, key=lambda i: (-np.nan_to_num(scores[k * width + i]), i)))
        dists.append(s)
    return Fit(
        item_ids=np.asarray(items, dtype=np.int64),
        label=labels,
        confidence=[None] * len(items),
        distribution=dists,
        n_votes=votes,
        stats=stats,
    )


def ranking_leaderboard(ranked, models: dict, params) -> dict:
    """Plackett–Luce scores of the models behind ranking items' responses, with intervals,
    and the win matrix the rankings imply; the same shape as ``leaderboard``.

    ranked: (item_id, tiers) per annotation, tiers of response indexes, best first; models:
    {item_id: (model, ...)}, one name per response in stored order. An item that names fewer
    models than it has responses, or one model twice, is left out: a ranking cannot place one
    model twice. Ties as in ``fit_ranking``. Each ranking implies a comparison of every two
    models it places (a win across tiers, a tie within one), which the win matrix counts.
    Intervals: the Hessian, or with {"bootstrap": true} a bootstrap over rankings, the two
    halves of a tied ranking drawn together. Scores are on the Elo scale, centred on 0.
    """
    named = []
    for item_id, tiers in ranked:
        names = models.get(int(item_id))
        flat = [i for tier in tiers for i in tier]
        if not names or not flat or max(flat) >= len(names) or len(set(names)) < len(names):
            continue
        named.append([[str(names[i]) for i in tier] for tier in tiers])
    if not named:
        return {"leaderboard": []}
    names = np.unique([m for tiers in named for tier in tiers for m in tier])
    code = {str(m): k for k, m in enumerate(names)}
    orders, weights, groups = [], [], []
    pairs = []  # (winner, loser, tie)
    for g, tiers in enumerate(named):
        coded = [[code[m] for m in tier] for tier in tiers]
        for order, weight in _tie_orders(coded):
            orders.append(order)
            weights.append(weight)
            groups.append(g)
        for t, tier in enumerate(coded):
            below = [y for lower in coded[t + 1 :] for y in lower]
            for x_pos, x in enumerate(tier):
                pairs += [(x, y, 1) for y in tier[x_pos + 1 :]]
                pairs += [(x, y, 0) for y in below]
    bootstrap = bool(params.get("bootstrap"))
    res = numeric.plackett_luce(
        _padded(orders, max(len(o) for o in orders)),
        n_items=names.size,
        weights=np.asarray(weights),
        ci="bootstrap" if bootstrap else "hessian",
        groups=np.asarray(groups),
        rng=params.get("seed", 0),
    )
    p = np.asarray(pairs, dtype=np.int64).reshape(-1, 3)
    board = _board(names, res.scores, res.ci_low, res.ci_high, p[:, 0], p[:, 1], p[:, 2] == 1)
    board["leaderboard_fit"] = "plackett_luce"
    board["leaderboard_interval"] = "bootstrap over rankings" if bootstrap else "hessian"
    return board
