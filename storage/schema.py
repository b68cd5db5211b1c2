"""The schema's version: alembic migrations in storage/migrations, applied by `mulin db upgrade`.

The app does not change a schema on its own: it refuses to start on one that is behind. The one exception is a
brand-new empty SQLite file (the embedded default), which is created at head.

alembic is imported only where it is used: a start on a database already at head reads the version row and the
migration files' own revision lines (importing alembic costs ~0.1 s of CPU at every start), and a new SQLite file is
a copy of an empty one the migrations built once (kept in the cache directory, keyed by the migration files, alembic
and SQLAlchemy).
"""
from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from core.cache import cache_dir
from storage.db import DatabaseError, make_engine, mask_url
from storage.locks import wait_in_transaction

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"  # the schema as it was before migrations existed
UPGRADE_LOCK = "mulin-db-upgrade"  # two `mulin db upgrade` at once run one after the other
VERSION_TABLE = "alembic_version"
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.*?)\s*$", re.MULTILINE)

log = logging.getLogger("mulin.schema")


class SchemaError(RuntimeError):
    """The database's schema is not the one this mulin was built for."""


class SchemaBehind(SchemaError):
    def __init__(self, current: str | None, head: str) -> None:
        self.current, self.head = current, head
        super().__init__(f"数据库结构版本落后（当前 {current or '无'}，需要 {head}），请先运行：mulin db upgrade "
                         f"(database schema is behind: at {current or 'none'}, need {head}; run `mulin db upgrade`)")


@dataclass(frozen=True)
class Upgrade:
    before: str | None  # None: no schema version (empty, or made before migrations)
    after: str
    stamped: bool       # the tables predate migrations and were stamped at the baseline first


def alembic_config(connection: Connection | None = None) -> Config:
    """Built in code from the package path: no alembic.ini, so `mulin` works from any directory and when installed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    return _scripts().get_current_head()


def current(engine: Engine) -> str | None:
    """The database's schema revision; None when it has none (empty, or made before migrations)."""
    with _connected(engine) as connection:
        return _current(connection)


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(versions) <= 1:
        return versions[0] if versions else None
    from alembic.runtime.migration import MigrationContext  # several rows: alembic says what is wrong

    return MigrationContext.configure(connection).get_current_revision()


@lru_cache(maxsize=1)
def _head_from_files() -> str | None:
    """The head as the migration files' `revision` and `down_revision` lines name it; None unless they are plain
    strings making one chain with one head (then alembic reads them)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        lines = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        revision, parent = lines.get("revision", ""), lines.get("down_revision", "")
        if not re.fullmatch(r"(['\"])\w+\1", revision) or not re.fullmatch(r"None|(['\"])\w+\1", parent):
            return None
        revisions.add(revision[1:-1])
        parents.add(None if parent == "None" else parent[1:-1])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and len(revisions) == len(parents) else None


@contextmanager
def _connected(engine: Engine) -> Iterator[Connection]:
    try:
        connection = engine.connect()
    except OperationalError as exc:
        url = mask_url(engine.url.render_as_string(hide_password=False))
        raise DatabaseError(f"无法连接数据库 {url}: {exc.orig} (database unreachable)") from exc
    with connection, connection.begin():
        yield connection


def _has_mulin_tables(connection: Connection) -> bool:
    return bool(set(inspect(connection).get_table_names()) & set(SQLModel.metadata.tables))


def upgrade(engine: Engine) -> Upgrade:
    """Create or upgrade the database to head; tables made before migrations are first stamped at the baseline."""
    with _connected(engine) as connection:
        wait_in_transaction(connection, UPGRADE_LOCK)
        before = _current(connection)
        stamped = before is None and _has_mulin_tables(connection)
        from alembic import command

        if stamped:
            log.warning("the database has mulin tables but no schema version (made before migrations): "
                        "stamping it at the baseline %s", BASELINE)
            command.stamp(alembic_config(connection), BASELINE)
        command.upgrade(alembic_config(connection), "head")
        return Upgrade(before=before, after=_current(connection), stamped=stamped)


def check(engine: Engine) -> None:
    """Raise SchemaBehind unless the database is at head (SchemaError when it is newer than this mulin)."""
    at = current(engine)
    if at is not None and at == _head_from_files():
        return
    from alembic.util import CommandError

    want = head()
    if at == want:
        return
    try:
        _scripts().get_revision(at)
    except CommandError:
        raise SchemaError(f"数据库结构版本 {at} 比本程序新（本程序最高 {want}），请升级 mulin "
                          f"(database schema {at} is unknown to this mulin, whose head is {want})") from None
    raise SchemaBehind(at, want)


def _new_from_template(engine: Engine) -> bool:
    """A SQLite file that does not exist yet becomes a copy of the empty database the migrations build, made once per
    set of migrations; False when it is no such file or no copy can be made (then the migrations run on it)."""
    path = Path(engine.url.database or "")
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:") or path.exists():
        return False
    key = hashlib.sha1()
    for part in sorted((MIGRATIONS / "versions").glob("*.py")) + [MIGRATIONS / "env.py"]:
        key.update(part.name.encode() + b"\0" + part.read_bytes())
    for package in ("alembic", "sqlalchemy"):  # their files' times, without importing them
        origin = Path(importlib.util.find_spec(package).origin)
        key.update(f"{origin} {origin.stat().st_mtime_ns}".encode())
    template = cache_dir() / f"schema-{key.hexdigest()[:16]}.db"
    try:
        if not template.exists():
            _build_template(template)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        shutil.copyfile(template, tmp)
        try:
            os.link(tmp, path)  # fails if another process made the file meanwhile
        finally:
            tmp.unlink(missing_ok=True)
    except FileExistsError:
        return False  # another process made the file meanwhile: it is checked like any other
    except OSError as exc:
        log.info("no schema template for %s (%s): running the migrations", path, exc)
        return False
    return True


def _build_template(template: Path) -> None:
    template.parent.mkdir(parents=True, exist_ok=True)
    for old in template.parent.glob("schema-*.db"):
        old.unlink(missing_ok=True)  # built by migrations since changed
    tmp = template.with_name(f"{template.name}.{os.getpid()}.tmp")
    engine = make_engine(f"sqlite:///{tmp}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()  # the last connection closed: its write-ahead log is checkpointed into the file
    os.replace(tmp, template)


def check_or_create(engine: Engine) -> None:
    """Start-up: a brand-new empty SQLite database is created at head; any other must already be at head."""
    if _new_from_template(engine):
        log.info("new SQLite database %s: created at the migrations' head", engine.url.database)
        return
    if engine.dialect.name == "sqlite":
        with _connected(engine) as connection:
            empty = not inspect(connection).get_table_names()
        if empty:
            log.info("new SQLite database %s: creating the schema at %s", engine.url.database or "(memory)", head())
            upgrade(engine)
            return
    check(engine)


def build(engine: Engine) -> None:
    """A new database straight at head (create_all, stamped): for tests, benchmarks and throwaway databases.

    tests/storage/test_migrations.py proves the migrations build the same schema."""
    from alembic.runtime.migration import MigrationContext

    with _connected(engine) as connection:
        SQLModel.metadata.create_all(connection)
        MigrationContext.configure(connection).stamp(_scripts(), "head")


def revision(message: str) -> Path:
    """Write the next migration (0002, 0003...): autogenerated from the models' difference to head, to review.

    It compares against a temporary SQLite database upgraded to head, so no development database is needed."""
    from alembic import command

    with tempfile.TemporaryDirectory(prefix="mulin-revision-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/head.db")
        upgrade(engine)
        with _connected(engine) as connection:
            script = command.revision(alembic_config(connection), message=message, autogenerate=True,
                                      rev_id=f"{int(head()) + 1:04d}")
        engine.dispose()
    _scripts.cache_clear()  # the new revision is the head from now on
    _head_from_files.cache_clear()
    return Path(script.path)
