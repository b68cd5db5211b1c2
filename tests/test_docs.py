"""The KPI definitions printed in docs/kpi.md are the ones the code computes."""
from __future__ import annotations

from pathlib import Path

from storage.kpi import KPI_DEFINITIONS

ROOT = Path(__file__).resolve().parent.parent


def test_every_kpi_is_defined_in_one_line_in_docs():
    lines = (ROOT / "docs" / "kpi.md").read_text(encoding="utf-8").splitlines()
    for name, definition in KPI_DEFINITIONS.items():
        assert f"- {name}：{definition}" in lines, name
