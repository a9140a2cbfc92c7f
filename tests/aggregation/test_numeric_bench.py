import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "method",
    "labels",
    "vox_s",
    "crowdkit_s",
    "ratio",
    "vox_acc",
    "crowdkit_acc",
    "peak_rss_mb",
}


def run_bench(script, *args):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_the_aggregation_benchmark_runs_at_a_tiny_size_and_prints_its_json_keys():
    proc = run_bench(
        "aggregation.py", "--labels", "2000", "--no-crowdkit", "--methods", "mv", "ds", "mace"
    )
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["method"] for r in rows] == ["mv", "ds", "mace"]
    for r in rows:
        assert KEYS <= set(r)
        assert r["vox_s"] > 0 and r["peak_rss_mb"] > 0 and 0 <= r["vox_acc"] <= 1
        assert r["crowdkit_s"] is None


def test_the_auto_benchmark_runs_small_and_reports_each_methods_accuracy_and_autos_choice(
    tmp_path,
):
    # No shared crowds in tmp_path: synthetic ones only.
    proc = run_bench(
        "auto_method.py",
        *("--datasets", tmp_path, "--seeds", 1, "--synthetic-votes", 1500, "--no-crowdkit"),
    )
    out = json.loads(proc.stdout)
    assert out["real"] == {} and len(out["synthetic"]) == 4
    for row in out["synthetic"].values():
        assert set(row["vox"]) == {
            "majority",
            "weighted",
            "dawid_skene",
            "one_coin",
            "mace",
            "glad",
        }
        assert row["auto"]["chose"] in row["vox"] and row["auto"]["reason"]
        # The unanimity guard may keep a few of the votes' labels over the chosen method's.
        assert abs(row["auto"]["accuracy"] - row["vox"][row["auto"]["chose"]]) <= 0.01
    assert out["synthetic_mean"]["auto"] > out["synthetic_mean"]["majority"]
