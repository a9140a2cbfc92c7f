"""bench/model_loop.py --rte at a tiny size, on a synthetic file of the same shape, so the
benchmark cannot rot (the real crowd file is benchmark-only data and stays where it is)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SPORTS = ["match", "goal", "team", "coach", "league", "striker", "referee", "stadium"]
COOKING = ["recipe", "oven", "flour", "sauce", "garlic", "simmer", "butter", "pan"]


def test_the_rte_benchmark_reports_auprc_of_noisy_cv_votes_and_combined_against_chance(
    tmp_path,
):
    # The text decides the expert label; five raters, of whom three are wrong on every
    # sixth item (as many of each label): the aggregate is wrong there, and a model of the
    # text can tell; on as many other items two raters of five are wrong, so the votes
    # alone cannot tell the two apart.
    rng = np.random.default_rng(0)
    path = tmp_path / "items.jsonl"
    with path.open("w") as fh:
        for i in range(60):
            gold = "entailment" if i % 2 else "not_entailment"
            other = "not_entailment" if i % 2 else "entailment"
            pool = SPORTS if i % 2 else COOKING
            n_wrong = 3 if i % 12 in (0, 7) else 2 if i % 12 in (1, 6) else 0
            votes = [other] * n_wrong + [gold] * (5 - n_wrong)
            row = {
                "item_id": f"x{i}",
                "premise": " ".join(rng.choice(pool, 6)),
                "hypothesis": " ".join(rng.choice(pool, 3)),
                "gold_label": gold,
                "annotations": [
                    {"annotator": f"w{(i + k) % 7}", "label": v} for k, v in enumerate(votes)
                ],
            }
            fh.write(json.dumps(row) + "\n")
    proc = subprocess.run(
        [sys.executable, "bench/model_loop.py", "--rte", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rte = json.loads(proc.stdout)["rte_noisy_cv"]
    assert rte["n_items"] == 60 and rte["aggregate"].startswith("auto (chose ")
    assert rte["n_wrong"] == 10 and rte["chance"] == round(10 / 60, 4)
    assert rte["auprc_noisy_cv"] > 0.9 > rte["auprc_vote_agreement"] > rte["chance"]
    assert 0 <= rte["auprc_combined"] <= 1
    assert {"majority", "dawid_skene"} <= set(rte["other_aggregates"])
