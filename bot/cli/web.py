"""`mulin web serve` (the console and the Open311 API) and `mulin web link --staff ID` (a one-time login URL)."""
from __future__ import annotations

import sys
from typing import TextIO

from core.clock import SystemClock
from core.config import Config, database_url
from bot.cli.db import open_database
from bot.exitcodes import EXIT_CONFIG
from storage.db import new_session
from storage.weblogin import LINK_VALID, new_link_token

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080


def web_serve(*, config: Config, host: str, port: int, out: TextIO) -> int:
    from web.app import serve

    engine = open_database(database_url(config))
    shown = config.web.public_url or f"http://{host}:{port}"
    print(f"睦邻工作台：{shown}/tickets（Ctrl+C 停止）；Open311：{shown}/open311/v2/requests.json?api_key=…", file=out,
          flush=True)
    try:
        serve(config=config, engine=engine, clock=SystemClock(config.tz), host=host, port=port)
    finally:
        engine.dispose()
    return 0


def web_link(*, config: Config, staff_id: str, base: str | None, out: TextIO) -> int:
    staff = config.staff_by_id(staff_id)
    if staff is None:
        print(f"没有这位工作人员：{staff_id}（staff ids: {', '.join(s.id for s in config.staff)}）", file=sys.stderr)
        return EXIT_CONFIG
    engine = open_database(database_url(config))
    with new_session(engine) as session:
        token = new_link_token(session=session, staff_id=staff.id, now=SystemClock(config.tz).now())
    engine.dispose()
    root = (base or config.web.public_url or f"http://{DEFAULT_HOST}:{DEFAULT_PORT}").rstrip("/")
    minutes = int(LINK_VALID.total_seconds() // 60)
    print(f"{staff.name} 的一次性登录链接（{minutes} 分钟内有效，只能用一次）：", file=sys.stderr)
    print(f"{root}/login/link/{token}", file=out)
    return 0
