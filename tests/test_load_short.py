"""The load test's short form (bench/load_test.py): 10 virtual users for 15 seconds against
gunicorn with two workers, on a fresh database of the kind under test. No server error, no
transport error, and every write a client was told succeeded is in the database.

The full form (50 users, 5 minutes, PostgreSQL) and its numbers: docs/reliability.md.
"""

import pytest

from bench.load_test import run_load

pytestmark = pytest.mark.no_db_transaction


def test_ten_users_for_fifteen_seconds_lose_nothing(fresh_database_url, tmp_path):
    messages = []
    result = run_load(
        fresh_database_url,
        users=10,
        seconds=15,
        think=0.3,
        seed_cases=12,
        seed=7,
        echo=messages.append,
        log_dir=tmp_path,
        cheap_hashing=True,
    )
    summary = {
        key: result[key]
        for key in (
            "requests",
            "requests_per_s",
            "errors",
            "error_samples",
            "lost_writes",
            "lost_write_samples",
            "unexpected_4xx",
            "successful_writes",
        )
    }
    assert result["errors"] == 0, summary
    assert result["lost_writes"] == 0, summary
    assert result["check"]["chain_ok"], summary
    # The scenario did what it is for: complaints filed, cases carried on, pages read.
    writes = result["successful_writes"]
    assert writes.get("register", 0) >= 5 and writes.get("start_inquiry", 0) >= 1, summary
    assert sum(writes.values()) >= 10, summary
    assert {"web GET /cases", "web GET /inbox", "web GET /bulletins"} <= set(result["pages"]), summary
    assert not result["unexpected_4xx"], summary
