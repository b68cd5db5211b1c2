"""Where mulin keeps what it derives once and reuses at every start (jieba's dictionary, the compiled model, the
empty database the migrations build): MULIN_CACHE_DIR, else $XDG_CACHE_HOME/mulin or ~/.cache/mulin."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    if os.environ.get("MULIN_CACHE_DIR"):
        return Path(os.environ["MULIN_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mulin"
