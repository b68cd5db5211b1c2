"""The weekly review's PNG is labelled in Chinese, in a font that has the glyphs (no empty boxes)."""
from __future__ import annotations

import warnings
from datetime import date

from handlers.chart import _register_fonts, weekly_png


def test_the_weekly_chart_speaks_chinese_with_a_font_that_has_the_glyphs():
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = weekly_png(first_day=date(2026, 11, 23), days={"2026-11-23": {"new": 3, "resolved": 1}},
                         title="周会审 11月23日—11月29日 新增与办结")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert not [w for w in caught if "missing from" in str(w.message)], [str(w.message) for w in caught]
    path = font_manager.findfont(font_manager.FontProperties(family=_register_fonts()), fallback_to_default=False)
    font = FT2Font(path)
    assert all(font.get_char_index(ord(ch)) for ch in "周会审新增办结一二三四五六日月"), path
