"""One ranking of suspect labels from whichever scores are at hand, with a reason per flag.

How the scores combine (docs/label_quality.md has the measurements behind it):

1. The primary score is ``1 - P(given label is right)``: under the raters-plus-model
   consensus posterior when votes exist (:func:`quality.numeric.consensus.model_consensus`), else
   under the model's out-of-sample probabilities (self-confidence, Kuan and Mueller 2022).
   Only one of the two is used, because the consensus posterior already contains the model:
   adding self-confidence on top would count the model twice (on CIFAR-10N it lowered AUPRC).
2. Training-dynamics scores (AUM, Pleiss et al. 2020; forgetting, Toneva et al. 2019; data
   map confidence, Swayamdipta et al. 2020) and TracIn self-influence (Pruthi et al. 2020)
   live on unrelated scales, so every score is turned into its percentile rank in [0, 1]
   (ties share their mean rank), oriented so that 1 is most suspect.
3. The combined score is the weighted mean of those ranks, with ``weights`` (default: 2 for
   the primary score, 1 for each other score present). With the primary score alone the
   combined score is the primary score itself, so it keeps its meaning as a probability.

Reasons are boolean flags, each a published rule, never a tuned cut-off (see
:func:`suspect_scores`). numpy only, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .confident_learning import check_labels_probs, find_label_issues

DEFAULT_WEIGHTS = {
    "primary": 2.0,
    "aum": 1.0,
    "forgetting": 1.0,
    "data_map": 1.0,
    "self_influence": 1.0,
}


def percentile_rank(values) -> np.ndarray:
    """(n,) ranks scaled to [0, 1], ties sharing their mean rank; 1 = largest value."""
    v = np.asarray(values, dtype=np.float64)
    if v.size <= 1:
        return np.ones(v.size)
    uniq, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    # Mean 0-based rank of each distinct value: its first position plus half its run.
    first = np.cumsum(counts) - counts
    mean_rank = first + (counts - 1) / 2.0
    return mean_rank[inverse] / (v.size - 1)


def robust_outliers(values) -> np.ndarray:
    """(n,) bool: above Q3 + 3 IQR, Tukey's (1977) "far out" fence."""
    v = np.asarray(values, dtype=np.float64)
    q1, q3 = np.percentile(v, [25, 75])
    return v > q3 + 3.0 * (q3 - q1)


@dataclass(frozen=True)
class Suspects:
    """Suspect labels, most suspect first.

    score: (n,) combined suspicion in [0, 1]; order: (n,) int64 item indices, most suspect
    first (ties by index). components: name -> (n,) each score used, oriented high = suspect.
    reasons: name -> (n,) bool flag (see :func:`suspect_scores`).
    """

    score: np.ndarray
    order: np.ndarray
    components: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)

    def reasons_of(self, i: int) -> list[str]:
        """The names of the flags raised for item i, in a stable order."""
        return [name for name, flag in self.reasons.items() if flag[i]]


def suspect_scores(
    labels,
    *,
    pred_probs=None,
    consensus_posterior=None,
    aum=None,
    aum_cutoff=None,
    forgetting=None,
    data_map=None,
    self_influence=None,
    weights=None,
) -> Suspects:
    """Combine the available label-quality scores into one ranking with reasons.

    labels: (n,) the given labels under suspicion. Optional inputs, each (n,) unless noted:
    pred_probs (n, K) out-of-sample; consensus_posterior (n, K), e.g.
    ``model_consensus(...).posterior``; aum with ``aum_cutoff`` (the threshold-sample cut-off,
    :func:`quality.numeric.aum_threshold`; 0 if not given, the sign rule); forgetting, a
    :class:`quality.numeric.Forgetting`; data_map, a :class:`quality.numeric.DataMap`;
    self_influence from TracIn. At least pred_probs or consensus_posterior is needed.
    The combination is described in the module docstring.

    Reasons raised: ``confident_learning`` (CL's prune-by-noise-rate issue, Northcutt et al.
    2021), ``consensus_disagrees`` (the consensus label differs from the given one),
    ``low_aum`` (AUM below the cut-off), ``forgotten`` (at least one forgetting event),
    ``never_learned``, ``hard_to_learn`` (data-map confidence below 0.5 and variability below
    the median: the paper's low-confidence, low-variability corner) and
    ``high_self_influence`` (a far-out value, :func:`robust_outliers`).
    """
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    if consensus_posterior is not None:
        y, post = check_labels_probs(labels, consensus_posterior)
    elif pred_probs is not None:
        y, post = check_labels_probs(labels, pred_probs)
    else:
        raise ValueError("need pred_probs or consensus_posterior")
    n = y.size
    rows = np.arange(n)
    components = {"primary": 1.0 - post[rows, y].astype(np.float64)}
    reasons = {}
    if pred_probs is not None:
        reasons["confident_learning"] = find_label_issues(y, pred_probs).is_issue
    if consensus_posterior is not None:
        reasons["consensus_disagrees"] = post.argmax(axis=1) != y
    if aum is not None:
        a = np.asarray(aum, dtype=np.float64)
        components["aum"] = -a
        reasons["low_aum"] = a < (0.0 if aum_cutoff is None else float(aum_cutoff))
    if forgetting is not None:
        components["forgetting"] = np.asarray(forgetting.score, dtype=np.float64)
        reasons["forgotten"] = forgetting.n_forgotten > 0
        reasons["never_learned"] = np.asarray(forgetting.never_learned, dtype=bool)
    if data_map is not None:
        components["data_map"] = -np.asarray(data_map.confidence, dtype=np.float64)
        var = np.asarray(data_map.variability, dtype=np.float64)
        reasons["hard_to_learn"] = (data_map.confidence < 0.5) & (var < np.median(var))
    if self_influence is not None:
        s = np.asarray(self_influence, dtype=np.float64)
        components["self_influence"] = s
        reasons["high_self_influence"] = robust_outliers(s)
    for name, c in components.items():
        if c.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), got {c.shape}")

    if len(components) == 1:
        score = components["primary"].copy()
    else:
        total = sum(w[name] for name in components)
        score = sum(w[name] * percentile_rank(c) for name, c in components.items()) / total
    order = np.lexsort((rows, -score))
    return Suspects(score=score, order=order, components=components, reasons=reasons)


def model_run_suspects(labels, pred_probs, *, epochs=None, consensus_posterior=None):
    """The suspects of one model run, scored as the suspects page scores them: the
    raters-plus-model consensus when given, and data map, forgetting and AUM when the run has
    per-epoch probabilities. Returns (Suspects, DataMap or None).

    labels: (n,) the aggregate labels; pred_probs: (n, K) out-of-sample; epochs: (n_epochs,
    n, K) probabilities after each epoch. AUM reads log-probabilities as logits: the margin
    z_given - max z_other is unchanged by adding a constant to a row, and log softmax(z) =
    z - logsumexp(z) is exactly such a shift.
    """
    from .dynamics import area_under_margin, data_map, forgetting_events

    kwargs = {}
    if consensus_posterior is not None:
        kwargs["consensus_posterior"] = consensus_posterior
    dm = None
    if epochs is not None:
        dm = data_map(epochs, labels)
        kwargs["data_map"] = dm
        kwargs["forgetting"] = forgetting_events(epochs, labels)
        kwargs["aum"] = area_under_margin(np.log(np.maximum(epochs, 1e-12)), labels)
    return suspect_scores(labels, pred_probs=pred_probs, **kwargs), dm
