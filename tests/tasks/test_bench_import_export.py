"""The import/export benchmark runs at a small size, so it cannot rot."""

import pytest

from tests.bench_run import run_bench


@pytest.mark.django_db(transaction=True)
def test_the_benchmark_prints_its_figures_as_one_json_object(tmp_path):
    result = run_bench("import_export.py", "--items", "300", tmp_path=tmp_path)
    assert result["items"] == 300 and result["annotations"] == 900
    for key in ("import_s", "import_peak_rss_mb", "export_s", "export_peak_rss_mb"):
        assert result[key] > 0
    assert result["export_bytes"] > result["file_bytes"] / 2
