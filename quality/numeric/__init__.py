"""Pure-numpy quality measures of Vox: agreement between raters and accuracy on gold items."""

from .agreement import cohen_kappa_matrix, fleiss_kappa, krippendorff_alpha, percent_agreement
from .gold import GoldAccuracy, PositionBias, gold_accuracy, position_bias_test

__all__ = [
    "GoldAccuracy",
    "PositionBias",
    "cohen_kappa_matrix",
    "fleiss_kappa",
    "gold_accuracy",
    "krippendorff_alpha",
    "percent_agreement",
    "position_bias_test",
]
