"""Write synthetic crowds in the shared-datasets format, for checking bench results off the
crowds they were tuned on.

    python bench/synthetic_crowds.py OUT [--items 800] [--labels-per-item 10] [--seed 0]

Four folders under OUT, each with labels.csv (item,worker,label) and truth.csv (item,label):

* one_coin_k2: binary, each rater right with their own probability (Beta(8, 2), mean 0.8);
* two_coin_k2: binary, each rater with their own sensitivity and specificity, so some lean to
  one answer;
* one_coin_k4_spammers: four classes, 20 % of raters answer uniformly at random;
* two_coin_k2_spammers: two-coin raters, 25 % of them answer at random or always the same.

Raters (100 per crowd) are drawn with a Zipf-like workload, so a few do most of the work and
many are seen on a handful of items, as on real crowds. Classes are balanced except on
two_coin_k2 (60/40).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def write(folder: Path, item, worker, label, truth) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "labels.csv", "w") as f:
        f.write("item,worker,label\n")
        f.writelines(f"{i},w{w},{y}\n" for i, w, y in zip(item, worker, label, strict=True))
    with open(folder / "truth.csv", "w") as f:
        f.write("item,label\n")
        f.writelines(f"{i},{y}\n" for i, y in enumerate(truth))


def crowd(rng, n_items, per_item, n_raters, k, confusion, class_p) -> tuple:
    """Each item gets ``per_item`` distinct raters, drawn with Zipf-like weights."""
    truth = rng.choice(k, n_items, p=class_p)
    weight = 1.0 / np.arange(1, n_raters + 1) ** 0.8
    weight /= weight.sum()
    items, workers, labels = [], [], []
    for i in range(n_items):
        raters = rng.choice(n_raters, per_item, replace=False, p=weight)
        for r in raters:
            items.append(i)
            workers.append(r)
            labels.append(rng.choice(k, p=confusion[r, truth[i]]))
    return items, workers, labels, truth


def one_coin(acc, k):
    eye = np.eye(k)
    a = acc[:, None, None]
    return a * eye + (1 - a) / (k - 1) * (1 - eye)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--items", type=int, default=800)
    p.add_argument("--labels-per-item", type=int, default=10)
    p.add_argument("--raters", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    n, m, r = a.items, a.labels_per_item, a.raters

    acc = rng.beta(8, 2, r)
    write(a.out / "one_coin_k2", *crowd(rng, n, m, r, 2, one_coin(acc, 2), [0.5, 0.5]))

    sens, spec = rng.beta(8, 2, r), rng.beta(8, 2, r)
    two = np.stack([np.stack([spec, 1 - spec], 1), np.stack([1 - sens, sens], 1)], 1)
    write(a.out / "two_coin_k2", *crowd(rng, n, m, r, 2, two, [0.6, 0.4]))

    acc4 = rng.beta(8, 2, r)
    conf4 = one_coin(acc4, 4)
    spam = rng.random(r) < 0.2
    conf4[spam] = 0.25
    write(a.out / "one_coin_k4_spammers", *crowd(rng, n, m, r, 4, conf4, [0.25] * 4))

    sens, spec = rng.beta(8, 2, r), rng.beta(8, 2, r)
    two = np.stack([np.stack([spec, 1 - spec], 1), np.stack([1 - sens, sens], 1)], 1)
    kind = rng.random(r)
    two[kind < 0.15] = 0.5  # random
    two[(kind >= 0.15) & (kind < 0.25)] = [[1.0, 0.0], [1.0, 0.0]]  # always the first answer
    write(a.out / "two_coin_k2_spammers", *crowd(rng, n, m, r, 2, two, [0.5, 0.5]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
