"""bench start runs both clients as real processes from the checkout and prints each round and the ratio."""
import io
from pathlib import Path

from bot.bench.start import bench_start
from core.config import load_config

ROOT = Path(__file__).resolve().parents[3]


def test_bench_start_times_both_clients_to_their_first_reply(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # wherever it is run from, mulin run finds the checkout's config
    out = io.StringIO()
    ratio = bench_start(config=load_config(str(ROOT / "config.yaml")), config_path=None, out=out, rounds=1)
    assert ratio > 0
    assert "start round 1: bare python-wechaty" in out.getvalue() and "ratio mulin/bare" in out.getvalue()
