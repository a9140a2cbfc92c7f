import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT.parent / "shared" / "datasets"


def run_cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "aggregation.numeric", *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_cli_aggregates_a_shared_dataset_with_dawid_skene():
    labels = DATASETS / "zhou_dog" / "labels.csv"
    if not labels.exists():
        pytest.skip(f"shared dataset not found at {labels}; CI clones shared/ beside")
    proc = run_cli("ds", labels)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert list(rows[0]) == ["item", "label", "confidence"]
    with open(DATASETS / "zhou_dog" / "truth.csv", newline="") as f:
        truth = {r["item"]: r["label"] for r in csv.DictReader(f)}
    assert len(rows) == 807
    acc = sum(truth[r["item"]] == r["label"] for r in rows) / len(rows)
    assert acc > 0.83
    assert all(0 < float(r["confidence"]) <= 1 for r in rows)


def test_cli_accepts_crowd_kit_column_names(tmp_path):
    f = tmp_path / "votes.csv"
    f.write_text("task,worker,label\nt1,w1,cat\nt1,w2,cat\nt1,w3,dog\nt2,w1,dog\n")
    proc = run_cli("mv", f)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "item,label,confidence",
        "t1,cat,0.666667",
        "t2,dog,1.000000",
    ]


def test_cli_names_the_line_of_a_missing_field_and_exits_with_2(tmp_path):
    f = tmp_path / "labels.csv"
    f.write_text("item,worker,label\n1,a,x\n2,,y\n")
    proc = run_cli("mv", f)
    assert proc.returncode == 2
    assert f"{f}:3: missing field 'worker'" in proc.stderr


def test_cli_ranks_pairwise_comparisons_with_bradley_terry(tmp_path):
    f = tmp_path / "pairs.csv"
    rows = ["worker,left,right,label"]
    rows += [f"w{i},A,B,A" for i in range(6)] + ["w9,A,B,B", "w1,B,C,B", "w2,B,C,tie", "w3,C,A,A"]
    f.write_text("\n".join(rows) + "\n")
    proc = run_cli("bt", f)
    assert proc.returncode == 0, proc.stderr
    scores = {r["item"]: float(r["score"]) for r in csv.DictReader(io.StringIO(proc.stdout))}
    assert scores["A"] > scores["B"] > scores["C"]


def test_cli_rejects_a_pairwise_label_that_is_neither_side(tmp_path):
    f = tmp_path / "pairs.csv"
    f.write_text("worker,left,right,label\nw1,A,B,C\n")
    proc = run_cli("bt", f)
    assert proc.returncode == 2
    assert ":2: label 'C'" in proc.stderr


def test_cli_auto_prints_item_label_confidence_and_says_why_on_stderr(tmp_path):
    f = tmp_path / "pilot.csv"
    f.write_text(
        "item,worker,label\npw-1,r1,A\npw-1,r2,A\npw-2,r1,B\npw-2,r2,B\npw-3,r1,A\npw-3,r2,tie\n"
    )
    proc = run_cli("auto", f)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "item,label,confidence",
        "pw-1,A,1.000000",
        "pw-2,B,1.000000",
        "pw-3,A,0.500000",
    ]
    assert "auto: chose majority because no rater model can be identified" in proc.stderr


def test_cli_auto_names_the_line_of_a_bad_row_and_exits_with_2(tmp_path):
    f = tmp_path / "labels.csv"
    f.write_text("item,worker,label\n1,a,x\n1,b,x\n2,a,\n")
    proc = run_cli("auto", f)
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"{f}:4: missing field 'label'" in proc.stderr
