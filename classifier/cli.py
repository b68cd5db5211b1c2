"""`mulin classify`: classify messages from lines of text or JSON, optionally scoring labelled lines."""
from __future__ import annotations

import json
import sys
from typing import Iterable, TextIO

from classifier.evaluate import Tally


def run_classify(lines: Iterable[str], out: TextIO, clf, evaluate: bool, totals_only: bool = False) -> int:
    """Plain lines or JSON lines with "text" in; one JSON object per message out.
    With evaluate, lines carry expect_* labels: only failures are written (none with totals_only), then the report;
    returns 1 when a threshold from the rules file is missed."""
    tally = Tally(clf) if evaluate else None
    for line in lines:
        record = _record(line)
        if record is None:
            continue
        result = clf.classify(record["text"], explain=True)
        row = {**record, **result.to_dict()}
        if tally is None:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif (errors := tally.add(record, result)) and not totals_only:
            out.write(json.dumps({**row, "errors": errors}, ensure_ascii=False) + "\n")
    return tally.report(out) if tally is not None else 0


def _record(line: str) -> dict | None:
    line = line.rstrip("\r\n").lstrip("\ufeff")  # a byte-order mark (files saved by Windows tools) is no text
    if not line.strip():
        return None
    if line.lstrip().startswith("{"):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("text"), str):
            return record
    return {"text": line}


class ConfigBuildings:
    """Building names and aliases read straight from config.yaml (grids[].buildings), yaml only."""

    def __init__(self, path: str):
        import yaml

        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
        self._aliases: dict[str, list[str]] = {}
        for grid in data.get("grids") or []:
            for b in grid.get("buildings") or []:
                name, aliases = (b["name"], b.get("aliases") or []) if isinstance(b, dict) else (b, [])
                self._aliases[str(name)] = [str(a) for a in aliases]

    def building_aliases(self) -> dict[str, list[str]]:
        return self._aliases


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (python -m classifier.cli classify [--config FILE] [--eval]) for use before bot.cli."""
    import argparse

    import classifier

    parser = argparse.ArgumentParser(prog="python -m classifier.cli")
    parser.add_argument("command", choices=["classify", "bench"])
    parser.add_argument("--config")
    parser.add_argument("--eval", action="store_true")
    parser.add_argument("--totals", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "bench":
        from classifier.bench import run_bench

        return run_bench(sys.stdout, [sys.executable, "-m", "classifier.cli"])
    clf = classifier.load(ConfigBuildings(args.config) if args.config else None)
    return run_classify(sys.stdin, sys.stdout, clf, args.eval, totals_only=args.totals)


if __name__ == "__main__":
    sys.exit(main())
