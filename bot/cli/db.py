"""`mulin db upgrade|current|revision`, and opening the configured database for the operator commands."""
from __future__ import annotations

import sys
from typing import TextIO

from sqlalchemy.engine import Engine

from bot.exitcodes import EXIT_DATABASE, EXIT_SCHEMA
from storage import schema
from storage.db import DatabaseError, make_engine, mask_url


def open_database(url: str) -> Engine:
    """The configured database, ready for use; a schema that is behind, or no server, exits with its code."""
    engine = make_engine(url)
    try:
        schema.check_or_create(engine)
    except DatabaseError as exc:
        print(f"数据库错误 (database error): {exc}", file=sys.stderr)
        raise SystemExit(EXIT_DATABASE) from None
    except schema.SchemaError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(EXIT_SCHEMA) from None
    return engine


def db_upgrade(url: str, out: TextIO) -> int:
    engine = make_engine(url)
    try:
        done = schema.upgrade(engine)
    except DatabaseError as exc:
        print(f"数据库错误 (database error): {exc}", file=sys.stderr)
        return EXIT_DATABASE
    finally:
        engine.dispose()
    if done.stamped:
        print(f"这个数据库建于迁移之前，已标记为基线 {schema.BASELINE} "
              f"(tables made before migrations: stamped at baseline {schema.BASELINE})", file=out)
    before = done.before or (schema.BASELINE if done.stamped else "无")
    if before == done.after:
        print(f"数据库 {mask_url(url)} 已是最新：{done.after} (already at head {done.after})", file=out)
    else:
        print(f"数据库 {mask_url(url)} 已升级：{before} → {done.after} "
              f"(upgraded from {done.before or 'none'} to {done.after})", file=out)
    return 0


def db_current(url: str, out: TextIO) -> int:
    """Prints the revision; exits 0 at head and EXIT_SCHEMA when `mulin run` would refuse, for deploy scripts."""
    engine = make_engine(url)
    try:
        at = schema.current(engine)
        schema.check(engine)
    except DatabaseError as exc:
        print(f"数据库错误 (database error): {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except schema.SchemaError as exc:
        print(f"当前 {at or '无'}，最新 {schema.head()} (current {at or 'none'}, head {schema.head()})", file=out)
        print(exc, file=out)
        return EXIT_SCHEMA
    finally:
        engine.dispose()
    print(f"当前 {at}，已是最新 (current {at}, at head)", file=out)
    return 0


def db_revision(message: str, out: TextIO) -> int:
    path = schema.revision(message)
    print(f"已生成迁移 {path}：请审阅后提交 (new migration written: review it, then commit it)", file=out)
    return 0
