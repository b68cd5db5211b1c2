"""Migrations on both backends: they build the models' schema, adopt pre-migration databases, and the app
refuses to start on a schema that is behind."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, text
from sqlmodel import SQLModel

from bot.cli.main import main
from bot.exitcodes import EXIT_SCHEMA
from bot.run import serve
from storage import schema
from storage.db import make_engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bare_engine(database_url):
    """An engine on the empty database, without the schema the `engine` fixture builds."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def differences(engine, metadata: MetaData = SQLModel.metadata) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)


def test_upgrade_on_an_empty_database_builds_exactly_the_models(bare_engine):
    done = schema.upgrade(bare_engine)
    assert (done.before, done.after, done.stamped) == (None, schema.head(), False)
    assert differences(bare_engine) == []  # a change to storage/models.py without its migration fails here
    schema.check(bare_engine)
    # the comparison does see a forgotten column
    models = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(models)
    models.tables["ticket"].append_column(Column("forgotten", Integer))
    assert [diff[0] for diff in differences(bare_engine, models)] == ["add_column"]


def test_a_database_made_before_migrations_is_stamped_at_the_baseline_and_upgraded(bare_engine):
    # the tables as `mulin run` made them before migrations existed: the baseline's schema, no alembic_version
    with bare_engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection), schema.BASELINE)
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(text("INSERT INTO staff_binding (staff_id, wechat_id, bound_at) "
                                "VALUES ('wangfang', 'wxid_wang', '2026-11-30 01:00:00')"))
    with pytest.raises(schema.SchemaBehind, match=f"当前 无，需要 {schema.head()}"):
        schema.check(bare_engine)
    done = schema.upgrade(bare_engine)
    assert (done.before, done.after, done.stamped) == (None, schema.head(), True)
    schema.check(bare_engine)
    with bare_engine.connect() as connection:
        assert connection.execute(text("SELECT staff_id, wechat_id FROM staff_binding")).all() == \
            [("wangfang", "wxid_wang")]


def test_start_refuses_a_schema_one_revision_behind(bare_engine, database_url, config, classifier, capsys):
    schema.upgrade(bare_engine)
    with bare_engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection), "-1")  # as if this mulin brought a new migration
    behind = schema.current(bare_engine)
    assert behind != schema.head()
    code = asyncio.run(serve(config=config, endpoint="127.0.0.1:1", token="unused", database_url=database_url,
                             classifier=classifier))
    err = capsys.readouterr().err
    assert code == EXIT_SCHEMA
    assert f"数据库结构版本落后（当前 {behind or '无'}，需要 {schema.head()}），请先运行：mulin db upgrade" in err
    assert "run `mulin db upgrade`" in err


def test_a_schema_newer_than_this_mulin_is_refused_as_such(bare_engine):
    schema.upgrade(bare_engine)
    with bare_engine.begin() as connection:  # a newer mulin migrated it, then this older one was started
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(schema.SchemaError, match="数据库结构版本 9999 比本程序新") as refused:
        schema.check(bare_engine)
    assert not isinstance(refused.value, schema.SchemaBehind)


def test_a_new_empty_sqlite_file_is_created_at_head_an_empty_postgresql_is_refused(bare_engine):
    if bare_engine.dialect.name == "sqlite":
        schema.check_or_create(bare_engine)
        assert schema.current(bare_engine) == schema.head() and differences(bare_engine) == []
    else:
        with pytest.raises(schema.SchemaBehind):
            schema.check_or_create(bare_engine)
        assert schema.current(bare_engine) is None


def test_db_upgrade_then_current_through_the_cli(database_url, monkeypatch, capsys):
    monkeypatch.setenv("MULIN_DATABASE_URL", database_url)
    config = str(ROOT / "config.yaml")
    assert main(["db", "current", "--config", config]) == EXIT_SCHEMA
    assert f"当前 无，最新 {schema.head()}" in capsys.readouterr().out
    assert main(["db", "upgrade", "--config", config]) == 0
    assert f"已升级：无 → {schema.head()}" in capsys.readouterr().out
    assert main(["db", "upgrade", "--config", config]) == 0
    assert f"已是最新：{schema.head()}" in capsys.readouterr().out
    assert main(["db", "current", "--config", config]) == 0
    assert f"当前 {schema.head()}，已是最新" in capsys.readouterr().out


def test_db_upgrade_needs_no_alembic_ini_in_the_working_directory(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh.db"
    run = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade", "--config", str(ROOT / "config.yaml")],
                         cwd=tmp_path, env={**os.environ, "MULIN_DATABASE_URL": url}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert f"(upgraded from none to {schema.head()})" in run.stdout
    engine = make_engine(url)
    assert schema.current(engine) == schema.head()
    engine.dispose()


def test_the_upgrade_hint_names_the_config_the_refused_command_used(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MULIN_DATABASE_URL", raising=False)
    url = f"sqlite:///{tmp_path}/other.db"
    config = tmp_path / "other.yaml"
    config.write_text((ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "sqlite:///data/mulin.db", url), encoding="utf-8")
    assert url in config.read_text(encoding="utf-8")
    engine = make_engine(url)
    schema.upgrade(engine)
    with engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection), "-1")
    engine.dispose()
    with pytest.raises(SystemExit) as refused:
        main(["tickets", "--config", str(config)])
    assert refused.value.code == EXIT_SCHEMA
    assert f"mulin db upgrade --config {config}" in capsys.readouterr().err


def test_the_head_read_from_the_migration_files_is_alembics(tmp_path, monkeypatch):
    """A start on a database at head reads the head from the files' revision lines, without alembic."""
    assert schema._head_from_files() == schema.head()
    versions = tmp_path / "versions"
    versions.mkdir()
    monkeypatch.setattr(schema, "MIGRATIONS", tmp_path)
    write = lambda name, body: (versions / name).write_text(body, encoding="utf-8")  # noqa: E731
    write("0001_a.py", '"""Revision ID: 0001"""\nrevision = "0001"\ndown_revision = None\n')
    write("0002_b.py", "revision: str = '0002'\ndown_revision: Union[str, None] = '0001'\n")
    schema._head_from_files.cache_clear()
    assert schema._head_from_files() == "0002"
    write("0003_c.py", "revision = '0003'\ndown_revision = '0001'\n")  # two heads: alembic must decide
    schema._head_from_files.cache_clear()
    assert schema._head_from_files() is None
    write("0003_c.py", "revision = '0003'\ndown_revision = ('0001', '0002')\n")  # a merge: alembic reads it
    schema._head_from_files.cache_clear()
    assert schema._head_from_files() is None
    schema._head_from_files.cache_clear()


def test_a_new_sqlite_file_is_a_copy_of_the_migrations_empty_database(tmp_path, monkeypatch):
    monkeypatch.setenv("MULIN_CACHE_DIR", str(tmp_path / "cache"))
    engines = [make_engine(f"sqlite:///{tmp_path / name}") for name in ("first.db", "second.db")]
    for engine in engines:
        schema.check_or_create(engine)
        assert schema.current(engine) == schema.head() and differences(engine) == []
        engine.dispose()
    assert len(list((tmp_path / "cache").glob("schema-*.db"))) == 1
    # an existing empty file is not replaced: the migrations run on it
    (tmp_path / "empty.db").touch()
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    schema.check_or_create(engine)
    assert schema.current(engine) == schema.head()
    engine.dispose()


def test_a_start_imports_no_alembic_on_a_database_at_head_or_a_new_file(tmp_path):
    script = ("import sys; from storage.db import make_engine; from storage import schema\n"
              "for name in sys.argv[1:]:\n"
              "    engine = make_engine(f'sqlite:///{name}'); schema.check_or_create(engine); engine.dispose()\n"
              "print('alembic' in sys.modules)")
    env = {**os.environ, "MULIN_CACHE_DIR": str(tmp_path / "cache")}

    def run(*names: str) -> str:
        return subprocess.run([sys.executable, "-c", script, *(str(tmp_path / n) for n in names)], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True).stdout.strip()

    assert run("a.db") == "True"  # the first new file builds the template with the migrations
    assert run("b.db", "a.db") == "False"  # a copy of it, and a database already at head
