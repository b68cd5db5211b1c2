"""`mulin bench privacy` on a small run: both columns printed, and the purge makes the database smaller."""
from __future__ import annotations

import io
import re

from bot.bench.privacy import bench_privacy


def test_bench_privacy_prints_sizes_without_and_with_the_purge():
    out = io.StringIO()
    assert bench_privacy(messages=2000, pg_url=None, out=out) == 0
    row = re.search(r"^SQLite\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out.getvalue(), re.M)
    assert row is not None, out.getvalue()
    before, after, ratio = map(float, row.groups())
    assert 0 < after < before and ratio < 1
