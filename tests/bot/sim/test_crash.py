"""The crash test: `mulin sim` and `mulin run` as two real processes, the bot killed with SIGKILL at random."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.sim.chaos import build_stream, max_in_window, run_chaos

ROOT = Path(__file__).resolve().parents[3]

MESSAGES, KILLS, DROPS, SEED = 400, 4, 1, 20261123
INTERVAL = 0.5  # pacing per group for this run (the shipped 3 s would make it take an hour); still enforced


def test_stream_is_seeded_and_its_problems_are_distinct(config):
    a = build_stream(config, messages=200, seed=1)
    assert a.scenario == build_stream(config, messages=200, seed=1).scenario
    assert a.scenario != build_stream(config, messages=200, seed=2).scenario
    assert a.messages == 200 and len(a.key_of) > 40 and len(set(a.key_of.values())) < len(a.key_of)
    topics = {r["topic"] for r in a.scenario["rooms"]}
    assert topics == {g.room for g in config.groups}


def test_window_counts():
    assert max_in_window([0, 1, 2, 2.9, 3.0, 10], 3) == 4
    assert max_in_window([], 60) == 0


@pytest.mark.slow
def test_kill_minus_nine_loses_nothing_and_doubles_nothing(config, database_url, tmp_path):
    result = run_chaos(config_path=ROOT / "config.yaml", config=config,
                       database_url=database_url, workdir=tmp_path, messages=MESSAGES, kills=KILLS, drops=DROPS,
                       seed=SEED, group_interval=INTERVAL)
    assert result.problems == []
    assert result.kills == KILLS and result.drops == DROPS and result.messages == MESSAGES
    # the expected count comes from the stream alone: one ticket per distinct (category, building) it reported
    assert result.expected_tickets == len(set(build_stream(config, messages=MESSAGES, seed=SEED).key_of.values()))
    assert result.tickets == result.expected_tickets > 50
    assert result.duplicates == 0 and result.lost == 0 and result.acks_missing == 0
    assert result.in_flight_repeats <= KILLS + DROPS  # at most the one send in flight at each fault
    assert result.max_rate_3s <= 3 / INTERVAL + 1  # +1: the gateway stamps arrival, pacing stamps the claim
    assert result.max_rate_60s <= 60 / INTERVAL + 1


def test_no_two_chatter_lines_read_together_are_a_request(config):
    """After a reconnect the gateway re-sends a burst, and one resident's chatter lines arrive seconds apart, so the
    split-message rule reads them as one text ("晚上一起跳广场舞吗 楼下新开了一家超市" once stated a noise problem
    upstairs: 楼下 + 跳). No pair of the stream's chatter may make a request, or the crash test fails by chance."""
    import classifier
    from bot.sim.chaos import CHATTER

    clf = classifier.load(config)
    filed = [f"{a} {b}" for a in CHATTER for b in CHATTER if clf.classify(f"{a} {b}").is_request]
    assert filed == []
