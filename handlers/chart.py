"""The weekly review's trend chart as a PNG (matplotlib, headless). Labels are ASCII: no CJK font is assumed."""
from __future__ import annotations

import io
from datetime import date, timedelta


def weekly_png(*, first_day: date, days: dict[str, dict], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    dates = [first_day + timedelta(days=i) for i in range(7)]
    new = [days.get(d.isoformat(), {}).get("new", 0) for d in dates]
    resolved = [days.get(d.isoformat(), {}).get("resolved", 0) for d in dates]
    labels = [f"{d:%m-%d}\n{d:%a}" for d in dates]
    figure, axes = plt.subplots(figsize=(7, 3.2), dpi=110)
    x = range(len(dates))
    axes.bar([i - 0.2 for i in x], new, width=0.4, label="filed", color="#d9822b")
    axes.bar([i + 0.2 for i in x], resolved, width=0.4, label="resolved", color="#2b8a3e")
    axes.set_xticks(list(x), labels)
    axes.set_title(title)
    axes.legend(loc="upper right")
    axes.yaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
