"""Pure-numpy aggregation algorithms of Vox: no Django, no database.

Every categorical method takes ``item_idx``, ``rater_idx`` and ``label`` as int arrays of shape
(n_votes,) and returns a frozen dataclass with ``posterior`` (n_items, n_labels) and ``label``.
"""

from .auto import AutoResult, auto
from .categorical import (
    CategoricalResult,
    agreement_weights,
    gold_accuracy_weights,
    majority_vote,
    weighted_vote,
)
from .dawid_skene import DawidSkeneResult, dawid_skene, one_coin_dawid_skene
from .glad import GladResult, glad
from .likert import BiasCorrectedResult, LikertResult, bias_corrected_mean, likert_summary
from .mace import MaceResult, mace
from .multilabel import MultiLabelResult, multilabel
from .overlap import (
    StopDecision,
    categorical_done,
    categorical_posterior,
    categorical_stop,
    categorical_uncertainty,
    likert_stop,
    pairwise_stop,
    pairwise_uncertainty,
    queue_priority,
    rater_confusion,
    stop_rule,
    vote_accuracy,
    vote_confusion,
    vote_weight,
)
from .pairwise import (
    BradleyTerryResult,
    PreferenceResult,
    WinMatrix,
    bradley_terry,
    preference,
    win_matrix,
)
from .ranking import BordaResult, PlackettLuceResult, borda, plackett_luce

__all__ = [
    "AutoResult",
    "BiasCorrectedResult",
    "BordaResult",
    "BradleyTerryResult",
    "CategoricalResult",
    "DawidSkeneResult",
    "GladResult",
    "LikertResult",
    "MaceResult",
    "MultiLabelResult",
    "PlackettLuceResult",
    "PreferenceResult",
    "StopDecision",
    "WinMatrix",
    "agreement_weights",
    "auto",
    "bias_corrected_mean",
    "borda",
    "bradley_terry",
    "categorical_done",
    "categorical_posterior",
    "categorical_stop",
    "categorical_uncertainty",
    "dawid_skene",
    "glad",
    "gold_accuracy_weights",
    "likert_stop",
    "likert_summary",
    "mace",
    "majority_vote",
    "multilabel",
    "one_coin_dawid_skene",
    "pairwise_stop",
    "pairwise_uncertainty",
    "plackett_luce",
    "preference",
    "queue_priority",
    "rater_confusion",
    "stop_rule",
    "vote_accuracy",
    "vote_confusion",
    "vote_weight",
    "weighted_vote",
    "win_matrix",
]
