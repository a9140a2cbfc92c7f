"""Can an annotator tell silent gold from live items by how the server answers?

    python bench/gold_timing.py --url http://127.0.0.1:8077 --answers 400

One annotator (as an attacker would: alone, so nothing else adds noise) labels items over
the token API, next then submit, while the project serves gold at --gold-rate. Every
reply's latency, status and size is recorded, and the gold items are known afterwards
(`manage.py bench_annotate gold-ids`). For next and for submit it reports the area under
the ROC curve of latency as a gold-vs-live classifier, folded so that 0.5 means "no
better than chance" and 1.0 "perfectly separable" (target: at most 0.6 with at least 200
samples of each), and whether statuses and sizes differ at all. Prints one JSON object;
needs the server's DATABASE_URL in its environment, as bench/annotate_load.py does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from annotate_load import Client, manage, percentiles  # noqa: E402


def auc(positive: list[float], negative: list[float]) -> float:
    """P(a positive scores above a negative), ties counting half (Mann-Whitney U / n1 n2)."""
    if not positive or not negative:
        return float("nan")
    values = np.concatenate([positive, negative])
    order = values.argsort(kind="mergesort")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    # Average ranks over ties.
    sorted_values = values[order]
    _, first, counts = np.unique(sorted_values, return_index=True, return_counts=True)
    for start, count in zip(first, counts, strict=True):
        if count > 1:
            ranks[order[start : start + count]] = start + (count + 1) / 2
    n1, n2 = len(positive), len(negative)
    u = ranks[:n1].sum() - n1 * (n1 + 1) / 2
    return float(u / (n1 * n2))


def separability(positive: list[float], negative: list[float]) -> float:
    """AUC folded around 0.5: a classifier may just as well call the slower ones live."""
    a = auc(positive, negative)
    return round(max(a, 1 - a), 3)


async def label(url: str, token: str, project_id: int, answers: int, warmup: int):
    client = Client(url, token)
    base = f"/api/projects/{project_id}"
    samples = []  # (item_id, next_ms, next_status, -, submit_ms, submit_status, keys)
    try:
        for i in range(answers + warmup):
            status, body, next_ms = await client.post(f"{base}/next/")
            if status != 200 or body["item"] is None:
                break
            item = body["item"]
            code, answer, submit_ms = await client.post(
                f"{base}/annotations/",
                {
                    "item_id": item["item_id"],
                    "value": "yes",
                    "idempotency_key": uuid.uuid4().hex,
                    "active_ms": 1000,
                    "next": False,
                },
            )
            if i >= warmup:
                samples.append(
                    (item["item_id"], next_ms, status, None, submit_ms, code, sorted(answer))
                )
    finally:
        await client.close()
    return samples


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--answers", type=int, default=400, help="measured answers")
    parser.add_argument("--warmup", type=int, default=20, help="answers not measured")
    parser.add_argument("--gold", type=int, default=0, help="gold pool (default: enough)")
    parser.add_argument("--gold-rate", type=float, default=0.5)
    parser.add_argument("--items", type=int, default=0, help="live items (default: enough)")
    args = parser.parse_args(argv)
    total = args.answers + args.warmup
    setup = manage(
        "setup",
        "--items",
        str(args.items or 2 * total),
        "--overlap",
        "1",
        "--raters",
        "1",
        "--gold",
        str(args.gold or total),
        "--gold-rate",
        str(args.gold_rate),
    )
    started = time.perf_counter()
    samples = asyncio.run(
        label(args.url, setup["tokens"][0], setup["project_id"], args.answers, args.warmup)
    )
    elapsed = time.perf_counter() - started
    gold_ids = set(manage("gold-ids", "--project", str(setup["project_id"]))["gold_ids"])
    gold = [s for s in samples if s[0] in gold_ids]
    live = [s for s in samples if s[0] not in gold_ids]

    def column(rows, i):
        return [r[i] for r in rows]

    return {
        "url": args.url,
        "gold_rate": args.gold_rate,
        "samples": {"gold": len(gold), "live": len(live)},
        "duration_s": round(elapsed, 2),
        "next_auc": separability(column(gold, 1), column(live, 1)),
        "submit_auc": separability(column(gold, 4), column(live, 4)),
        "next_ms": {"gold": percentiles(column(gold, 1)), "live": percentiles(column(live, 1))},
        "submit_ms": {
            "gold": percentiles(column(gold, 4)),
            "live": percentiles(column(live, 4)),
        },
        # Statuses and reply shapes: any value found for one kind only gives gold away.
        "next_statuses": sorted({*column(gold, 2)} ^ {*column(live, 2)}),
        "submit_statuses": sorted({*column(gold, 5)} ^ {*column(live, 5)}),
        "submit_shapes_differ": {tuple(r) for r in column(gold, 6)}
        != {tuple(r) for r in column(live, 6)},
        "project_id": setup["project_id"],
    }


if __name__ == "__main__":
    result = main()
    print(json.dumps(result))
    ok = (
        result["samples"]["gold"] >= 200
        and result["samples"]["live"] >= 200
        and result["next_auc"] <= 0.6
        and result["submit_auc"] <= 0.6
    )
    sys.exit(0 if ok else 1)
