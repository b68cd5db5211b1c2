"""A logging filter that masks phone and ID numbers in every log line, tracebacks included."""
from __future__ import annotations

import logging

_FORMATTER = logging.Formatter()


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from handlers.texts import mask  # lazily: `mulin classify` starts without SQL models

        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(_FORMATTER.formatException(record.exc_info))
        return True


def install() -> None:
    """Mask on every handler of the root logger (set up by logging.basicConfig before this)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())
