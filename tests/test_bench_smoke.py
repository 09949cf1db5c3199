"""The benchmark runner works end to end: ``python -m bench --db sqlite --smoke`` on a throwaway
database (5,000 generated cases, a few repetitions of every row).

Marked ``bench`` and left out of the normal run, which it would slow down by half a minute:
run it with ``pytest -m bench tests/test_bench_smoke.py``. SQLite only.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.bench, pytest.mark.no_db_transaction]


@pytest.fixture
def selected(request):
    if "bench" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("benchmark smoke run: select it with -m bench")


def test_the_runner_measures_every_row(selected, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("the smoke run uses SQLite")
    results = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--db", "sqlite", "--smoke",
         "--database-url", f"sqlite:///{tmp_path / 'bench.db'}", "--results-dir", str(results)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    assert "median" in completed.stdout and "Results:" in completed.stdout

    (path,) = results.glob("sqlite-*.json")
    payload = json.loads(path.read_text())
    rows = {row["name"]: row for row in payload["rows"]}
    assert payload["smoke"] is True and payload["machine"]["nproc"] >= 1
    assert payload["machine"]["load"]["generation"]["counts"]["cases"] == 5_000

    lists = [row for name, row in rows.items() if name.startswith("list: county")]
    assert len(lists) >= 5
    for row in lists:
        assert row["samples_ms"] and row["raw_ms"] and row["median_ms"] > 0
        assert row["queries"] is not None
        assert row["verdict"] in ("PASS", "FAIL") and row["raw_verdict"] in ("PASS", "FAIL")
    assert any(name.startswith("API list") for name in rows)
    assert any(name.startswith("case page: closed") for name in rows)
    history = next(row for name, row in rows.items() if name.startswith("verify history"))
    assert history["extra"]["ok"] is True and history["extra"]["events"] > 5_000
    loaded = [row for name, row in rows.items() if "under load" in name]
    assert len(loaded) == 2 and all(row["extra"]["requests"] > 0 and row["extra"]["errors"] == 0 for row in loaded)
    memory = rows["memory per worker"]["extra"]["workers"]
    assert len(memory) == 2 and all(worker["rss_mb"] > 0 for worker in memory)
