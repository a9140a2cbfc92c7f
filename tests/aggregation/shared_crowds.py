"""The real crowd-labelled datasets in shared/ (beside the repo) that the numeric tests
check against their ground truth."""

from pathlib import Path

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
NAMES = [
    "snow_rte",
    "welinder_bluebird",
    "zhou_dog",
    "gal_barzan_mozafari",
    "rodrigues_sentiment_polarity",
]
