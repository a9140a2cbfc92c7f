"""Quality measures of Vox in numpy (and scipy.special), no Django: agreement between raters,
the trust posterior of accuracy on gold items, and finding bad labels from what a model learns
(confident learning, raters-plus-model consensus, training dynamics, self-influence and the
combined suspect ranking; docs/label_quality.md)."""

from .agreement import (
    FleissKappa,
    cohen_kappa_matrix,
    fleiss_kappa,
    fleiss_kappa_detail,
    krippendorff_alpha,
    ordinal_rater_figures,
    percent_agreement,
    ranking_rater_figures,
)
from .confident_learning import (
    LabelIssues,
    confidence_weighted_entropy,
    confident_joint,
    find_label_issues,
    label_quality_scores,
    normalized_margin,
    per_class_thresholds,
    prune_by_class,
    prune_by_noise_rate,
    self_confidence,
)
from .consensus import ModelConsensusResult, model_consensus
from .dynamics import (
    DataMap,
    Forgetting,
    area_under_margin,
    assign_threshold_samples,
    aum_threshold,
    data_map,
    forgetting_events,
)
from .gold import PositionBias, Trust, TrustPosterior, position_bias_test, trust_posterior
from .influence import (
    softmax_regression_checkpoints,
    tracin_self_influence,
    tracin_self_influence_from_probs,
)
from .suspects import Suspects, model_run_suspects, suspect_scores

__all__ = [
    "DataMap",
    "FleissKappa",
    "Forgetting",
    "LabelIssues",
    "ModelConsensusResult",
    "Suspects",
    "area_under_margin",
    "assign_threshold_samples",
    "aum_threshold",
    "confidence_weighted_entropy",
    "confident_joint",
    "data_map",
    "find_label_issues",
    "forgetting_events",
    "label_quality_scores",
    "model_consensus",
    "model_run_suspects",
    "normalized_margin",
    "per_class_thresholds",
    "prune_by_class",
    "prune_by_noise_rate",
    "self_confidence",
    "softmax_regression_checkpoints",
    "suspect_scores",
    "tracin_self_influence",
    "tracin_self_influence_from_probs",
    "PositionBias",
    "Trust",
    "TrustPosterior",
    "cohen_kappa_matrix",
    "fleiss_kappa",
    "ordinal_rater_figures",
    "fleiss_kappa_detail",
    "krippendorff_alpha",
    "percent_agreement",
    "ranking_rater_figures",
    "position_bias_test",
    "trust_posterior",
]
