from pathlib import Path

import pytest
import yaml

from handlers.commands import Command, Malformed, NoSuchTicket, parse_command

CASES = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "commands" / "cases.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["text"] for c in CASES])
def test_golden_command_cases(case):
    parsed = parse_command(case["text"])
    if "no_such" in case:
        assert parsed == NoSuchTicket(parsed.name, case["no_such"]), case["why"]
    elif "malformed" in case:
        assert isinstance(parsed, Malformed), case["why"]
        assert parsed.need == case["malformed"]
    elif case["expect"] is None:
        assert parsed is None, case["why"]
    else:
        name, ticket_id, argument = case["expect"]
        assert parsed == Command(name, ticket_id, argument), case["why"]
