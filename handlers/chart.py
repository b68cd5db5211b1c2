"""The weekly review's trend chart as a PNG (matplotlib, headless), labelled in Chinese (新增, 办结, 周一...).

The font is Noto Sans CJK SC: the system's (Debian's fonts-noto-cjk) when installed, else the copy that installs with
mulin (the PyPI package manimgx-fonts-cjk, SIL Open Font License); WenQuanYi Micro Hei (fonts-wqy-microhei) stands in
for any glyph the first lacks.
"""
from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

WEEKDAYS = "一二三四五六日"
FAMILIES = ["Noto Sans CJK SC", "WenQuanYi Micro Hei", "DejaVu Sans"]


@lru_cache(maxsize=1)
def _register_fonts() -> list[str]:
    """Add the packaged CJK font to matplotlib once, unless the system already has Noto Sans CJK SC."""
    from matplotlib import font_manager

    if not any(f.name == FAMILIES[0] for f in font_manager.fontManager.ttflist):
        import manimgx_fonts_cjk

        for path in Path(manimgx_fonts_cjk.__file__).parent.glob("*.tt[cf]"):
            font_manager.fontManager.addfont(str(path))
            # a variable font reads as its lightest instance (100); it is the regular face matplotlib should pick
            font_manager.fontManager.ttflist = [replace(f, weight=400) if f.fname == str(path) else f
                                                for f in font_manager.fontManager.ttflist]
    return FAMILIES


def weekly_png(*, first_day: date, days: dict[str, dict], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    dates = [first_day + timedelta(days=i) for i in range(7)]
    new = [days.get(d.isoformat(), {}).get("new", 0) for d in dates]
    resolved = [days.get(d.isoformat(), {}).get("resolved", 0) for d in dates]
    labels = [f"{d:%m-%d}\n周{WEEKDAYS[d.weekday()]}" for d in dates]
    with plt.rc_context({"font.family": _register_fonts(), "axes.unicode_minus": False}):
        figure, axes = plt.subplots(figsize=(7, 3.2), dpi=110)
        x = range(len(dates))
        axes.bar([i - 0.2 for i in x], new, width=0.4, label="新增", color="#d9822b")
        axes.bar([i + 0.2 for i in x], resolved, width=0.4, label="办结", color="#2b8a3e")
        axes.set_xticks(list(x), labels)
        axes.set_title(title)
        axes.legend(loc="upper right")
        axes.yaxis.get_major_locator().set_params(integer=True)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
    return buffer.getvalue()
