"""Quality measures of Vox in numpy (and scipy.special), no Django: agreement between raters
and the trust posterior of accuracy on gold items."""

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
from .gold import PositionBias, Trust, TrustPosterior, position_bias_test, trust_posterior

__all__ = [
    "FleissKappa",
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
