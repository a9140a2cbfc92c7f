"""The item browser benchmark runs at a small size, so it cannot rot."""

import pytest

from tests.bench_run import run_bench


@pytest.mark.django_db(transaction=True)
def test_the_browser_benchmark_prints_its_timings_as_one_json_object(tmp_path):
    result = run_bench("item_browser.py", "--items", "500", tmp_path=tmp_path)
    assert result["items"] == 500
    for key in ("first_page_ms", "deep_page_ms", "gold_first_page_ms", "complete_first_page_ms"):
        assert result[key] > 0
