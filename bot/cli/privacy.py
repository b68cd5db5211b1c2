"""`mulin privacy export|erase --contact WXID` and `mulin privacy notice`: a person's rights, for operators."""
from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.cli.db import open_database
from core.config import Config
from handlers.privacy import notice
from handlers.texts import mask
from storage import privacy
from storage.db import new_session

OPERATOR = "operator"  # the actor of an erase run from the command line


def export(*, database_url: str, contact: str, now: datetime, out_path: str | None, out: TextIO) -> int:
    engine = open_database(database_url)
    with new_session(engine) as session:
        data = privacy.export_contact(session=session, contact_id=contact, now=now)
    engine.dispose()
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if out_path:
        Path(out_path).write_text(text, encoding="utf-8")
        print(f"已导出 {contact} 的信息到 {out_path}：消息 {len(data['messages'])} 条，工单 {len(data['tickets'])} 张",
              file=sys.stderr)
    else:
        out.write(text)
    return 0


def erase(*, database_url: str, contact: str, now: datetime, out: TextIO) -> int:
    engine = open_database(database_url)
    try:
        with new_session(engine) as session:
            erased = privacy.erase_contact(session=session, contact_id=contact, actor_id=OPERATOR, now=now, mask=mask)
            session.commit()
    except privacy.ErasureRefused as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    tickets = " ".join(f"#{n}" for n in erased.tickets) or "无"
    out.write(f"已删除 {contact} 的个人信息：消息 {erased.messages} 条、发给其的消息 {erased.sent} 条的内容已清除；"
              f"工单 {tickets} 的反映人改为化名 {erased.pseudonym}（工单和统计保留）\n")
    return 0


def print_notice(*, config: Config, out: TextIO) -> int:
    out.write(notice(config) + "\n")
    return 0
